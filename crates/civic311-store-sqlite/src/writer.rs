//! The single writer: group commit with a savepoint per unit of work.

use civic311_store::sql::{BoxFuture, ConnTx, SqlTx, WriteWork};
use civic311_store::{StoreError, StoreResult};
use sqlx::{Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

/// Most units of work joined into one transaction.
const MAX_GROUP: usize = 512;

/// Called after the group's commit with its outcome; tells the caller.
type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

type JobFn = Box<dyn for<'t> FnOnce(&'t mut dyn SqlTx) -> BoxFuture<'t, (bool, Done)> + Send>;

/// A unit of work for the writer, run in its own savepoint.
pub struct Job(JobFn);

/// Wraps `work` as a job and the receiver of its result.
pub fn job<T: Send + 'static>(work: WriteWork<T>) -> (Job, oneshot::Receiver<StoreResult<T>>) {
    let (tx, rx) = oneshot::channel();
    let job = Job(Box::new(move |t: &mut dyn SqlTx| {
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
    let mut answers: Vec<Done> = Vec::with_capacity(group.len());
    let mut broken = None;
    for Job(work) in group {
        if broken.is_some() {
            // The transaction is unusable; dropping the job tells its caller.
            continue;
        }
        match in_savepoint(conn, work).await {
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
async fn in_savepoint(conn: &mut SqliteConnection, work: JobFn) -> Result<Done, String> {
    exec(conn, "SAVEPOINT unit").await?;
    let (ok, done) = work(&mut ConnTx::<Sqlite>(conn)).await;
    if !ok {
        exec(conn, "ROLLBACK TO unit").await?;
    }
    exec(conn, "RELEASE unit").await?;
    Ok(done)
}
