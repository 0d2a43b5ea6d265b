//! The embedded default store: SQLite in WAL mode with foreign keys and durable
//! (`synchronous = FULL`) commits.
//!
//! Writes go through one writer connection that commits in groups: every unit of work
//! waiting when a transaction starts joins it (each inside its own savepoint, so one
//! failing unit does not undo the others), and each caller hears back only after the
//! commit. New requests arrive already batched (see `civic311_store::sql`'s intake
//! batcher), so one fsync serves many requests, which is what lets intake reach
//! thousands of durable requests per second. Reads use a pool of other connections.

mod writer;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use civic311_store::sql::{
    self, BodyRow, Migration, Param, PublicRowRaw, REQUEST_COLUMNS, RequestRow, SqlBackend, SqlStore, WriteWork,
};
use civic311_store::{StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, FromRow, Sqlite};
use tokio::sync::mpsc;

/// The schema, in order. Versions match the PostgreSQL store's.
pub static MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: include_str!("../migrations/0001_foundation.sql") },
    Migration { version: 2, name: "workflow", sql: include_str!("../migrations/0002_workflow.sql") },
    Migration { version: 3, name: "media_visibility", sql: include_str!("../migrations/0003_media_visibility.sql") },
    Migration { version: 4, name: "config_version", sql: include_str!("../migrations/0004_config_version.sql") },
    Migration { version: 5, name: "staff_sign_in", sql: include_str!("../migrations/0005_staff_sign_in.sql") },
    Migration { version: 6, name: "password_resets", sql: include_str!("../migrations/0006_password_resets.sql") },
    Migration { version: 7, name: "config_changes", sql: include_str!("../migrations/0007_config_changes.sql") },
    Migration { version: 8, name: "queue_index", sql: include_str!("../migrations/0008_queue_index.sql") },
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

/// SQLite connections: one writer task and a pool of readers.
pub struct SqliteBackend {
    readers: SqlitePool,
    jobs: mpsc::Sender<writer::Job>,
    /// How to open another connection (for a checkpoint, outside any transaction).
    options: SqliteConnectOptions,
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
    let mut conn = opts.connect().await?;
    // The writer touches every index of every request it writes: 64 MB of pages kept
    // (SQLite's default is 2 MB) made a bulk import 12 % faster.
    sqlx::raw_sql("PRAGMA cache_size = -65536").execute(&mut conn).await?;
    let (jobs, rx) = mpsc::channel(4096);
    tokio::spawn(writer::run(conn, rx));
    let readers = SqlitePoolOptions::new()
        .max_connections(4)
        .min_connections(1)
        .connect_with(opts.clone().read_only(true))
        .await?;
    let backend = SqliteBackend { readers, jobs, options: opts };
    sql::migrate(&backend, MIGRATIONS).await?;
    // What an import cut off had set aside (see `sql::bulk`).
    sql::restore_parked(&backend).await?;
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

    /// The import tables' indexes as written in their migrations, but for unique ones,
    /// `requests_changed`, which every write of a request reads for its stamp
    /// (`sql::changes`), and the two an import fills in their own order, so that
    /// keeping them costs less than building them again (each build reads the whole
    /// table): `events_request` (by request number, which only grows) and
    /// `requests_requested` (by time, as history files are sorted; a small index, cheap
    /// to keep even when a file is not); and the partial ones (over open requests, over
    /// escalations), which a history mostly closed and never escalated hardly adds to,
    /// while building each again read the whole table for nothing (about 4 s of the
    /// 13.6 s the builds took after importing 1,000,000 requests); then the trigger
    /// that writes each new request's staff-search document (migration 26), built again
    /// by writing the documents the search lacks.
    fn parkable(&self) -> String {
        format!(
            "SELECT body FROM ( \
               SELECT 1 AS rank, name, json_array('DROP INDEX ' || name, sql) AS body FROM sqlite_master \
               WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' \
               AND tbl_name IN ({}) AND name NOT IN ('requests_changed', 'events_request', 'requests_requested') \
               AND sql NOT LIKE '% WHERE %' \
               UNION ALL \
               SELECT 2, name, json_array('DROP TRIGGER ' || name, \
                 'INSERT INTO request_search (rowid, doc) SELECT id, search_doc FROM requests \
                  WHERE id NOT IN (SELECT rowid FROM request_search); ' || sql) FROM sqlite_master \
               WHERE type = 'trigger' AND name = 'request_search_insert' \
             ) ORDER BY rank, name",
            sql::IMPORT_TABLES
        )
    }

    /// A checkpoint that copies the whole write-ahead log into the database file and
    /// truncates it (on its own connection: a checkpoint cannot run inside the
    /// writer's transactions). After an import's index builds the log holds hundreds
    /// of megabytes that every read would otherwise look pages up in (measured on the
    /// open-data export of 1,000,000 requests: 155 – 179k rows/s before, 206 – 212k
    /// after). Readers still reading keep it from finishing: it then copies what it
    /// can, and SQLite's automatic checkpoints do the rest as writes come.
    async fn settle(&self) -> StoreResult<()> {
        let mut conn = self.options.connect().await?;
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
        sqlx::Connection::close(conn).await?;
        Ok(())
    }

    /// One: there is one writer, and requests arriving while a batch commits form the
    /// next batch (measured: a second batch writer only added savepoints, -10%).
    fn intake_writers(&self) -> usize {
        1
    }

    /// sqlx hands SQLite rows across threads one at a time, which costs more than the
    /// query for a page of 1000 requests; aggregating the page into one JSON row
    /// crosses once.
    async fn fetch_requests(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<RequestRow>> {
        // JSON renders REAL with 15 significant digits; 17 give back the exact f64.
        let columns = REQUEST_COLUMNS
            .replace(" lat,", " CASE WHEN lat IS NULL THEN NULL ELSE printf('%!.17g', lat) END,")
            .replace(" lon,", " CASE WHEN lon IS NULL THEN NULL ELSE printf('%!.17g', lon) END,");
        let wrapped = format!("SELECT json_group_array(json_array({columns})) AS body FROM ({sql})");
        let rows = self.fetch_all::<BodyRow>(&wrapped, params).await?;
        let Some(row) = rows.into_iter().next() else { return Ok(Vec::new()) };
        let arrays: Vec<Vec<serde_json::Value>> =
            serde_json::from_str(&row.body).map_err(|e| StoreError::Corrupt(format!("request page: {e}")))?;
        // The aggregate does not promise the subquery's order; the caller restores it.
        arrays.into_iter().map(RequestRow::from_json_array).collect()
    }

    /// As [`Self::fetch_requests`]: the rows cross as one JSON array of texts (a
    /// one-year report reads thousands of cells; handing each over cost more than
    /// reading it).
    async fn fetch_many_bodies(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<String>> {
        let wrapped = format!("SELECT json_group_array(body) AS body FROM ({sql})");
        let rows = self.fetch_all::<BodyRow>(&wrapped, params).await?;
        let Some(row) = rows.into_iter().next() else { return Ok(Vec::new()) };
        serde_json::from_str(&row.body).map_err(|e| StoreError::Corrupt(format!("rows read as one JSON array: {e}")))
    }

    /// As [`Self::fetch_requests`]: the page crosses as one JSON row, read straight
    /// into the rows (no intermediate values).
    async fn fetch_public(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<PublicRowRaw>> {
        // Coordinates as JSON renders REAL, to 15 significant digits (a nanometre at
        // city scale): printing all 17 cost more than the rest of the row.
        let columns = "id, service_code, description, lat, lon, address, status, status_notes, department, channel, \
             areas, requested_at, updated_at, closed_at, expected_at, merged";
        let wrapped = format!("SELECT json_group_array(json_array({columns})) AS body FROM ({sql})");
        let rows = self.fetch_all::<BodyRow>(&wrapped, params).await?;
        let Some(row) = rows.into_iter().next() else { return Ok(Vec::new()) };
        serde_json::from_str(&row.body).map_err(|e| StoreError::Corrupt(format!("open-data page: {e}")))
    }

    async fn fetch_all<R>(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<R>>
    where
        R: for<'r> FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin + 'static,
    {
        let (sql, params) = sql::statement::<Sqlite>(sql, params);
        let q = sql::bind_as(sqlx::query_as::<Sqlite, R>(sql), params);
        Ok(q.fetch_all(&self.readers).await?)
    }
}
