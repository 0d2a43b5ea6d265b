//! The one SQL implementation of [`Store`](crate::Store). A backend supplies a
//! connection to run statements on ([`SqlTx`]) and a way to run a unit of work in one
//! transaction ([`SqlBackend::write`]); everything else — the statements, the rows and
//! how they map to the domain — is written once here. SQLite and PostgreSQL both take
//! `$1` placeholders, so the statement text is shared too; only the DDL differs.

mod batch;
mod bind;
mod bulk;
mod changes;
mod config;
mod conn;
mod rollup;
mod rows;
mod search;
mod store;
mod workflow;
mod writes;

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use sqlx::{Database, FromRow};

use crate::error::StoreResult;

pub use bind::{bind, bind_as, statement};
pub use bulk::{IMPORT_TABLES, restore as restore_parked};
pub use conn::ConnTx;
pub use rollup::Rollup;
pub use rows::{
    AddressRow, ApiKeyRow, BodyRow, BoundaryRow, ChangeRow, ConfigChangeRow, CountRow, CredentialsRow, EventRow,
    FollowerRow, IdTokenRow, MediaRow, OutboxRow, PhotoRow, PublicRowRaw, RequestRow, SealedRow, SessionRow, SourceRow,
    TimerRow, UserTokenRow, WorkloadRow,
};
pub use store::{PUBLIC_COLUMNS, SqlStore, list_sql};
pub use writes::{REQUEST_COLUMNS, insert_intakes};

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    I64(i64),
    OptI64(Option<i64>),
    F64(f64),
    OptF64(Option<f64>),
    Text(String),
    OptText(Option<String>),
    Bytes(Vec<u8>),
}

/// A future borrowing a transaction.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Work to run inside one transaction; it commits only if the work returns `Ok`.
pub type WriteWork<T> = Box<dyn for<'t> FnOnce(&'t mut dyn SqlTx) -> BoxFuture<'t, StoreResult<T>> + Send>;

/// Statements inside an open transaction.
#[async_trait]
pub trait SqlTx: Send {
    /// Runs one statement; returns how many rows it changed.
    async fn execute(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<u64>;
    /// Runs an `INSERT … RETURNING id, token`.
    async fn insert_returning(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<IdTokenRow>>;
    /// Runs several statements without parameters (migrations).
    async fn execute_script(&mut self, sql: &str) -> StoreResult<()>;
    /// One `i64` from a query (`SELECT count(*)…`).
    async fn fetch_i64(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<i64>;
    /// Requests, read inside the transaction.
    async fn fetch_requests(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<RequestRow>>;
    /// One text column named `body`.
    async fn fetch_bodies(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<BodyRow>>;
    /// Events, read inside the transaction.
    async fn fetch_events(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<EventRow>>;
    /// Timers (`UPDATE … RETURNING` claims).
    async fn fetch_timers(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<TimerRow>>;
    /// Outbox rows (`UPDATE … RETURNING` claims).
    async fn fetch_outbox(&mut self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<OutboxRow>>;
    /// The driver's name ([`sqlx::Database::NAME`]), for the few statements whose
    /// text differs between databases.
    fn driver(&self) -> &'static str;
}

/// What a database driver provides to [`SqlStore`].
#[async_trait]
pub trait SqlBackend: Send + Sync + 'static {
    type Db: Database;

    fn name(&self) -> &'static str;

    /// Runs `work` in a transaction and commits it before returning `Ok`.
    async fn write<T: Send + 'static>(&self, work: WriteWork<T>) -> StoreResult<T>;

    /// What a claim's inner `SELECT` ends with so that concurrent claimers skip rows
    /// another transaction holds (`FOR UPDATE SKIP LOCKED`); empty for a
    /// single-writer database, where claims cannot overlap.
    fn skip_locked(&self) -> &'static str {
        ""
    }

    /// A statement that makes the report rollup drains of every process take turns
    /// until the transaction ends; empty for a single-writer database, where they do.
    fn rollup_lock(&self) -> &'static str {
        ""
    }

    /// The condition that keeps the change feed to changes no running transaction can
    /// still precede (see `changes`); empty for a single-writer database, where
    /// stamps follow commits.
    fn settled_changes(&self) -> &'static str {
        ""
    }

    /// A query for one text column `body` that differs whenever a request changed.
    fn change_mark(&self) -> &'static str {
        "SELECT CAST(COALESCE(MAX(changed), 0) AS TEXT) AS body FROM requests"
    }

    /// A query for one text column `body`, a JSON array of two statements for each
    /// index or key a first import may set aside (see `bulk`): the one that drops it
    /// and the one that builds it again; indexes before keys.
    fn parkable(&self) -> String;

    /// After a bulk write (an import, the demo's seeding): whatever makes reading what
    /// it wrote as fast as reading anything else. Nothing by default.
    async fn settle(&self) -> StoreResult<()> {
        Ok(())
    }

    /// How many intake batches may be written at once: 1 for a single-writer
    /// database, more where concurrent transactions share the work.
    fn intake_writers(&self) -> usize;

    /// See [`crate::Store::config_notices`]: `None` unless the database announces
    /// configuration changes.
    async fn config_notices(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        Ok(None)
    }

    /// Runs a request listing (`SELECT REQUEST_COLUMNS …`). The default maps rows one
    /// by one; a backend may fetch them faster, in any order (the caller sorts).
    async fn fetch_requests(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<RequestRow>>
    where
        RequestRow: for<'r> FromRow<'r, <Self::Db as Database>::Row>,
    {
        self.fetch_all::<RequestRow>(sql, params).await
    }

    /// Runs a query of one text column named `body` over many small rows (report
    /// cells), in any order. The default maps rows one by one; a backend may fetch them
    /// faster.
    async fn fetch_many_bodies(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<String>>
    where
        BodyRow: for<'r> FromRow<'r, <Self::Db as Database>::Row>,
    {
        Ok(self.fetch_all::<BodyRow>(sql, params).await?.into_iter().map(|r| r.body).collect())
    }

    /// Runs an open-data listing (`SELECT PUBLIC_COLUMNS …`), in any order.
    async fn fetch_public(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<PublicRowRaw>>
    where
        PublicRowRaw: for<'r> FromRow<'r, <Self::Db as Database>::Row>,
    {
        self.fetch_all::<PublicRowRaw>(sql, params).await
    }

    /// Runs a read-only query and maps its rows.
    async fn fetch_all<R>(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<R>>
    where
        R: for<'r> FromRow<'r, <Self::Db as Database>::Row> + Send + Unpin + 'static;
}

/// A numbered schema change; backends keep one list each, with the same versions.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Applies the migrations not yet recorded in `schema_migrations`, each in its own
/// transaction. Returns how many were applied.
pub async fn migrate<B: SqlBackend>(backend: &B, migrations: &'static [Migration]) -> StoreResult<usize> {
    backend
        .write(Box::new(|tx: &mut dyn SqlTx| {
            Box::pin(async move {
                tx.execute_script(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
                )
                .await
            })
        }))
        .await?;
    let mut applied = 0;
    for m in migrations {
        let done = backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    let seen = tx
                        .fetch_i64(
                            "SELECT count(*) FROM schema_migrations WHERE version = $1",
                            vec![Param::I64(m.version)],
                        )
                        .await?;
                    if seen > 0 {
                        return Ok(false);
                    }
                    tx.execute_script(m.sql).await?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        vec![Param::I64(m.version), Param::Text(m.name.into())],
                    )
                    .await?;
                    Ok::<_, crate::StoreError>(true)
                })
            }))
            .await?;
        applied += usize::from(done);
    }
    Ok(applied)
}
