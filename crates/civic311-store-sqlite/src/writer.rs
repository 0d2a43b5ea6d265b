//! The single writer: group commit with a savepoint per unit of work.

use async_trait::async_trait;
use civic311_store::sql::{self, BoxFuture, IdTokenRow, Param, SqlTx, WriteWork};
use civic311_store::{StoreError, StoreResult};
use sqlx::{Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

/// Most units of work joined into one transaction.
const MAX_GROUP: usize = 512;

/// Called after the group's commit with its outcome; tells the caller.
type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A type-erased unit of work: runs, says whether it succeeded, and how to answer.
pub struct Job(JobFn);

type JobFn = Box<dyn for<'t> FnOnce(&'t mut dyn SqlTx) -> BoxFuture<'t, (bool, Done)> + Send>;

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

struct Tx<'c>(&'c mut SqliteConnection);

fn stmt(sql: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql.to_owned())
}

#[async_trait]
impl SqlTx for Tx<'_> {
    async fn execute(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<u64> {
        let q = sql::bind(sqlx::query::<Sqlite>(stmt(sql)), params);
        Ok(q.execute(&mut *self.0).await?.rows_affected())
    }

    async fn insert_returning(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<IdTokenRow>> {
        let q = sql::bind_as(sqlx::query_as::<Sqlite, IdTokenRow>(stmt(sql)), params);
        Ok(q.fetch_all(&mut *self.0).await?)
    }

    async fn execute_script(&mut self, sql: &str) -> StoreResult<()> {
        sqlx::raw_sql(stmt(sql)).execute(&mut *self.0).await?;
        Ok(())
    }

    async fn fetch_i64(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<i64> {
        let q = sql::bind_as(sqlx::query_as::<Sqlite, (i64,)>(stmt(sql)), params);
        Ok(q.fetch_one(&mut *self.0).await?.0)
    }
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
    let alone = group.len() == 1;
    let mut answers = Vec::with_capacity(group.len());
    let mut broken = None;
    for Job(work) in group {
        if broken.is_some() {
            // The transaction is unusable; the remaining jobs are dropped and their
            // callers see the store as closed for this attempt.
            continue;
        }
        if !alone && let Err(e) = exec(conn, "SAVEPOINT unit").await {
            broken = Some(e);
            continue;
        }
        let (ok, done) = work(&mut Tx(conn)).await;
        let end = match (alone, ok) {
            (true, _) => Ok(()),
            (false, true) => exec(conn, "RELEASE unit").await,
            (false, false) => match exec(conn, "ROLLBACK TO unit").await {
                Ok(()) => exec(conn, "RELEASE unit").await,
                Err(e) => Err(e),
            },
        };
        if alone && !ok {
            // A lone failed unit: undo it entirely.
            let _ = exec(conn, "ROLLBACK").await;
            done(Ok(()));
            return;
        }
        answers.push(done);
        if let Err(e) = end {
            broken = Some(e);
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
