//! The embedded default store: SQLite in WAL mode with foreign keys and durable
//! (`synchronous = FULL`) commits.
//!
//! Writes go through one writer connection that commits in groups: every unit of work
//! waiting when a transaction starts joins it (each inside its own savepoint, so one
//! failing unit does not undo the others), and each caller hears back only after the
//! commit. One fsync then serves many requests, which is what lets intake reach
//! thousands of durable requests per second. Reads use a pool of other connections.

mod writer;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use civic311_domain::request::ServiceRequest;
use civic311_store::sql::{self, Migration, Param, SqlBackend, SqlStore, WriteWork};
use civic311_store::{Intake, StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, FromRow, Sqlite};
use tokio::sync::mpsc;

/// The schema, in order. Versions match the PostgreSQL store's.
pub static MIGRATIONS: &[Migration] =
    &[Migration { version: 1, name: "foundation", sql: include_str!("../migrations/0001_foundation.sql") }];

/// SQLite connections: one writer task and a pool of readers.
pub struct SqliteBackend {
    readers: SqlitePool,
    jobs: mpsc::Sender<writer::Job>,
}

/// The SQLite store.
pub type SqliteStore = SqlStore<SqliteBackend>;

fn options(url: &str) -> StoreResult<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

/// Opens (creating if needed) the database at `url` (`sqlite://path.db`) and applies
/// pending migrations.
pub async fn open(url: &str) -> StoreResult<SqliteStore> {
    let opts = options(url)?;
    let conn = opts.connect().await?;
    let (jobs, rx) = mpsc::channel(4096);
    tokio::spawn(writer::run(conn, rx));
    let readers =
        SqlitePoolOptions::new().max_connections(4).min_connections(1).connect_with(opts.read_only(true)).await?;
    let backend = SqliteBackend { readers, jobs };
    sql::migrate(&backend, MIGRATIONS).await?;
    Ok(SqlStore::new(backend))
}

#[async_trait]
impl SqlBackend for SqliteBackend {
    type Db = Sqlite;

    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn write<T: Send + 'static>(&self, work: WriteWork<T>) -> StoreResult<T> {
        let (job, done) = writer::job(work);
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    async fn create_intake(&self, intake: Intake) -> StoreResult<ServiceRequest> {
        let (reply, done) = tokio::sync::oneshot::channel();
        self.jobs.send(writer::Job::Intake(Box::new(intake), reply)).await.map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    async fn fetch_all<R>(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<R>>
    where
        R: for<'r> FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin + 'static,
    {
        let q = sql::bind_as(sqlx::query_as::<Sqlite, R>(sqlx::AssertSqlSafe(sql.to_owned())), params);
        Ok(q.fetch_all(&self.readers).await?)
    }
}
