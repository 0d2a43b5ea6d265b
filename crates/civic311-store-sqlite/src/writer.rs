//! The single writer: group commit with a savepoint per unit of work.

use civic311_domain::request::ServiceRequest;
use civic311_store::sql::{BoxFuture, ConnTx, SqlTx, WriteWork, insert_intakes};
use civic311_store::{Intake, StoreError, StoreResult};
use sqlx::{Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

/// Most units of work joined into one transaction.
const MAX_GROUP: usize = 512;

/// Called after the group's commit with its outcome; tells the caller.
type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

type JobFn = Box<dyn for<'t> FnOnce(&'t mut dyn SqlTx) -> BoxFuture<'t, (bool, Done)> + Send>;

/// What the writer is asked to do.
pub enum Job {
    /// Any unit of work, run in its own savepoint.
    Work(JobFn),
    /// A new request. The intakes of a group are written together in one multi-row
    /// insert; only when that fails are they retried one by one.
    Intake(Box<Intake>, oneshot::Sender<StoreResult<ServiceRequest>>),
}

/// Wraps `work` as a job and the receiver of its result.
pub fn job<T: Send + 'static>(work: WriteWork<T>) -> (Job, oneshot::Receiver<StoreResult<T>>) {
    let (tx, rx) = oneshot::channel();
    let job = Job::Work(Box::new(move |t: &mut dyn SqlTx| {
        Box::pin(async move {
            let result = work(t).await;
            let ok = result.is_ok();
            let done: Done = Box::new(move |commit| {
                let _ = tx.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(StoreError::CommitFailed(e)),
                });
            });
            (ok, done)
        })
    }));
    (job, rx)
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), String> {
    sqlx::raw_sql(sql).execute(conn).await.map(drop).map_err(|e| e.to_string())
}

/// Runs until every sender is gone.
pub async fn run(mut conn: SqliteConnection, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, group).await;
    }
}

async fn commit_group(conn: &mut SqliteConnection, group: Vec<Job>) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE").await {
        // Dropping the group tells each caller the write did not happen.
        tracing::error!(error = %e, "could not begin a write transaction");
        return;
    }
    let mut works = Vec::new();
    let mut intakes = Vec::new();
    for job in group {
        match job {
            Job::Work(w) => works.push(w),
            Job::Intake(i, reply) => intakes.push((*i, reply)),
        }
    }
    let mut answers: Vec<Done> = Vec::with_capacity(works.len() + intakes.len());
    let mut broken = None;
    if !intakes.is_empty() {
        match write_intakes(conn, intakes, &mut answers).await {
            Ok(()) => {}
            Err(e) => broken = Some(e),
        }
    }
    for work in works {
        if broken.is_some() {
            // The transaction is unusable; dropping the job tells its caller.
            continue;
        }
        match in_savepoint(conn, |tx| work(tx)).await {
            Ok(done) => answers.push(done),
            Err(e) => broken = Some(e),
        }
    }
    let outcome = match broken {
        Some(e) => Err(e),
        None => exec(conn, "COMMIT").await,
    };
    if outcome.is_err() {
        let _ = exec(conn, "ROLLBACK").await;
    }
    for done in answers {
        done(outcome.clone());
    }
}

/// Runs a job inside a savepoint, rolling back to it when the job fails. An `Err`
/// means the transaction itself is broken.
async fn in_savepoint<F>(conn: &mut SqliteConnection, run: F) -> Result<Done, String>
where
    F: for<'t> FnOnce(&'t mut dyn SqlTx) -> BoxFuture<'t, (bool, Done)>,
{
    exec(conn, "SAVEPOINT unit").await?;
    let (ok, done) = run(&mut ConnTx::<Sqlite>(conn)).await;
    if !ok {
        exec(conn, "ROLLBACK TO unit").await?;
    }
    exec(conn, "RELEASE unit").await?;
    Ok(done)
}

fn intake_done(reply: oneshot::Sender<StoreResult<ServiceRequest>>, result: StoreResult<ServiceRequest>) -> Done {
    Box::new(move |commit| {
        let _ = reply.send(match commit {
            Ok(()) => result,
            Err(e) => Err(StoreError::CommitFailed(e)),
        });
    })
}

/// Writes every intake of the group with one multi-row insert; when that fails,
/// writes them one by one so that only the bad ones are refused.
async fn write_intakes(
    conn: &mut SqliteConnection,
    intakes: Vec<(Intake, oneshot::Sender<StoreResult<ServiceRequest>>)>,
    answers: &mut Vec<Done>,
) -> Result<(), String> {
    let (all, replies): (Vec<Intake>, Vec<_>) = intakes.into_iter().unzip();
    exec(conn, "SAVEPOINT intakes").await?;
    match insert_intakes(&mut ConnTx::<Sqlite>(conn), &all).await {
        Ok(stored) if stored.len() == all.len() => {
            exec(conn, "RELEASE intakes").await?;
            answers.extend(replies.into_iter().zip(stored).map(|(r, s)| intake_done(r, Ok(s))));
            return Ok(());
        }
        _ => {
            exec(conn, "ROLLBACK TO intakes").await?;
            exec(conn, "RELEASE intakes").await?;
        }
    }
    for (intake, reply) in all.into_iter().zip(replies) {
        exec(conn, "SAVEPOINT unit").await?;
        let result = insert_intakes(&mut ConnTx::<Sqlite>(conn), std::slice::from_ref(&intake)).await;
        if result.is_err() {
            exec(conn, "ROLLBACK TO unit").await?;
        }
        exec(conn, "RELEASE unit").await?;
        let result =
            result.and_then(|mut v| v.pop().ok_or_else(|| StoreError::Corrupt("insert returned nothing".into())));
        answers.push(intake_done(reply, result));
    }
    Ok(())
}
