//! The scale-out store: PostgreSQL, with any number of app nodes in front of it.
//! Each unit of work is one transaction on a pooled connection; PostgreSQL's own
//! group commit shares fsyncs between concurrent transactions.

use async_trait::async_trait;
use civic311_store::StoreResult;
use civic311_store::sql::{self, ConnTx, Migration, Param, SqlBackend, SqlStore, WriteWork};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::{FromRow, Postgres};

/// The schema, in order. Versions match the SQLite store's.
pub static MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: include_str!("../migrations/0001_foundation.sql") },
    Migration { version: 2, name: "workflow", sql: include_str!("../migrations/0002_workflow.sql") },
    Migration { version: 3, name: "media_visibility", sql: include_str!("../migrations/0003_media_visibility.sql") },
    Migration { version: 4, name: "config_version", sql: include_str!("../migrations/0004_config_version.sql") },
    Migration { version: 5, name: "staff_sign_in", sql: include_str!("../migrations/0005_staff_sign_in.sql") },
    Migration { version: 6, name: "password_resets", sql: include_str!("../migrations/0006_password_resets.sql") },
    Migration { version: 7, name: "config_changes", sql: include_str!("../migrations/0007_config_changes.sql") },
    Migration { version: 8, name: "queue_index", sql: include_str!("../migrations/0008_queue_index.sql") },
    Migration { version: 9, name: "overdue_count", sql: include_str!("../migrations/0009_overdue_count.sql") },
    Migration { version: 10, name: "articles", sql: include_str!("../migrations/0010_articles.sql") },
    Migration { version: 11, name: "resident_links", sql: include_str!("../migrations/0011_resident_links.sql") },
    Migration { version: 12, name: "api_key_budgets", sql: include_str!("../migrations/0012_api_key_budgets.sql") },
    Migration { version: 13, name: "sign_in_attempts", sql: include_str!("../migrations/0013_sign_in_attempts.sql") },
    Migration { version: 14, name: "follower_consent", sql: include_str!("../migrations/0014_follower_consent.sql") },
    Migration { version: 15, name: "token_expiry", sql: include_str!("../migrations/0015_token_expiry.sql") },
    Migration { version: 16, name: "config_notify", sql: include_str!("../migrations/0016_config_notify.sql") },
    Migration { version: 17, name: "addresses", sql: include_str!("../migrations/0017_addresses.sql") },
    Migration { version: 18, name: "streets_assets", sql: include_str!("../migrations/0018_streets_assets.sql") },
    Migration { version: 19, name: "request_search", sql: include_str!("../migrations/0019_request_search.sql") },
    Migration { version: 20, name: "escalation_index", sql: include_str!("../migrations/0020_escalation_index.sql") },
    Migration { version: 21, name: "report_rollups", sql: include_str!("../migrations/0021_report_rollups.sql") },
    Migration { version: 22, name: "weekly_digests", sql: include_str!("../migrations/0022_weekly_digests.sql") },
    Migration { version: 23, name: "report_flow", sql: include_str!("../migrations/0023_report_flow.sql") },
    Migration { version: 24, name: "open_data", sql: include_str!("../migrations/0024_open_data.sql") },
    Migration { version: 25, name: "parked_schema", sql: include_str!("../migrations/0025_parked_schema.sql") },
    Migration { version: 26, name: "search_document", sql: include_str!("../migrations/0026_search_document.sql") },
];

/// Where the `config_version` trigger announces configuration changes.
const CONFIG_CHANNEL: &str = "civic311_config";

/// A pool of PostgreSQL connections.
pub struct PgBackend {
    pool: PgPool,
}

/// The PostgreSQL store.
pub type PgStore = SqlStore<PgBackend>;

/// Connects to `url` (`postgres://…`) and applies pending migrations. Concurrent
/// nodes starting together are serialised by an advisory lock.
pub async fn open(url: &str) -> StoreResult<PgStore> {
    let pool = PgPoolOptions::new().max_connections(16).connect(url).await?;
    let backend = PgBackend { pool };
    let mut lock = backend.pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock(311311)").execute(&mut *lock).await?;
    let migrated = match sql::migrate(&backend, MIGRATIONS).await {
        // What an import cut off had set aside (see `sql::bulk`).
        Ok(_) => sql::restore_parked(&backend).await,
        Err(e) => Err(e),
    };
    sqlx::query("SELECT pg_advisory_unlock(311311)").execute(&mut *lock).await?;
    migrated?;
    Ok(SqlStore::new(backend))
}

fn stmt(sql: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql.to_owned())
}

#[async_trait]
impl SqlBackend for PgBackend {
    type Db = Postgres;

    fn name(&self) -> &'static str {
        "postgres"
    }

    /// The import tables' indexes but for unique ones and primary keys, then their
    /// foreign keys, each as PostgreSQL's catalog gives its definition.
    fn parkable(&self) -> String {
        let tables = format!("ARRAY[{}]::regclass[]", sql::IMPORT_TABLES);
        format!(
            "SELECT body FROM ( \
               SELECT 1 AS rank, json_build_array(format('DROP INDEX %s', i.indexrelid::regclass), \
                 pg_get_indexdef(i.indexrelid))::text AS body \
               FROM pg_index i WHERE i.indrelid = ANY ({tables}) AND NOT i.indisunique AND NOT i.indisprimary \
               UNION ALL \
               SELECT 2, json_build_array(format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname), \
                 format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, \
                   pg_get_constraintdef(c.oid)))::text \
               FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY ({tables}) \
             ) AS p ORDER BY rank, body"
        )
    }

    /// `ANALYZE` of the tables an import writes, as PostgreSQL's guide to populating a
    /// database advises: until autovacuum gets to them, the planner would take a
    /// million requests for the few it last counted.
    async fn settle(&self) -> StoreResult<()> {
        let tables = sql::IMPORT_TABLES.replace('\'', "");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ANALYZE {tables}"))).execute(&self.pool).await?;
        Ok(())
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn rollup_lock(&self) -> &'static str {
        // Any fixed number of civic311's own: only the rollup drains take it.
        "SELECT pg_advisory_xact_lock(311031100)"
    }

    fn settled_changes(&self) -> &'static str {
        "changed < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    }

    /// The newest stamp and the running transactions: a commit changes one or the other
    /// (also when other work commits, which only costs a needless full answer).
    fn change_mark(&self) -> &'static str {
        "SELECT COALESCE(MAX(changed), 0)::text || ':' || pg_current_snapshot()::text AS body FROM requests"
    }

    /// Several batches in flight: PostgreSQL commits concurrent transactions together.
    fn intake_writers(&self) -> usize {
        4
    }

    /// A listener on `civic311_config` (announced by the `config_version` trigger) on a
    /// connection of its own, passing each notice on. Should the connection drop,
    /// sqlx reconnects it; notices sent meanwhile are lost, which the caller's polling
    /// covers.
    async fn config_notices(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CONFIG_CHANNEL).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    // A full channel already holds a wake-up: one is enough.
                    Ok(_) => {
                        if let Err(tokio::sync::mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for configuration changes failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(rx))
    }

    async fn write<T: Send + 'static>(&self, work: WriteWork<T>) -> StoreResult<T> {
        let mut tx = self.pool.begin().await?;
        let out = work(&mut ConnTx::<Postgres>(&mut tx)).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn fetch_all<R>(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<R>>
    where
        R: for<'r> FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin + 'static,
    {
        let q = sql::bind_as(sqlx::query_as::<Postgres, R>(stmt(sql)), params);
        Ok(q.fetch_all(&self.pool).await?)
    }
}
