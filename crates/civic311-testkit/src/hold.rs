//! Holding PostgreSQL's configuration version row, to make two configuration changes
//! meet: both read and check while the row is held, both then wait to write it, and
//! only then is it let go — so the test does not depend on luck to overlap them.

use sqlx::{Connection, PgConnection};

/// The `config_version` row locked by an open transaction of the test's own.
pub struct ConfigHold {
    holder: PgConnection,
    watcher: PgConnection,
}

impl ConfigHold {
    /// Locks the row on the database at `url` (a PostgreSQL test database).
    pub async fn take(url: &str) -> Self {
        let mut holder = PgConnection::connect(url).await.expect("connect to hold the row");
        sqlx::query("BEGIN").execute(&mut holder).await.expect("begin");
        sqlx::query("SELECT version FROM config_version WHERE id = 1 FOR UPDATE")
            .execute(&mut holder)
            .await
            .expect("lock the configuration version");
        let watcher = PgConnection::connect(url).await.expect("connect to watch");
        Self { holder, watcher }
    }

    /// Waits until `n` other sessions of this database are waiting for a lock (the
    /// row held): however long that takes, it is not what the test measures.
    pub async fn wait_for_waiters(&mut self, n: i64) {
        let sql = "SELECT count(*) FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
        loop {
            let waiting: i64 = sqlx::query_scalar(sql).fetch_one(&mut self.watcher).await.expect("pg_stat_activity");
            if waiting >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Lets the row go, changing nothing.
    pub async fn release(mut self) {
        sqlx::query("ROLLBACK").execute(&mut self.holder).await.expect("release");
    }
}
