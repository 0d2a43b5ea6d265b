//! Test helpers: fresh stores on SQLite and PostgreSQL, a small fixture city, and the
//! application in-process with a clock the test moves.
//!
//! PostgreSQL tests need `CIVIC311_TEST_POSTGRES_URL` (set by `scripts/test`, which
//! starts a throwaway server). Without it they fail with a message saying so: they
//! never skip.

pub mod app;
pub mod browser;
pub mod fixture;
pub mod hold;
pub mod photos;
pub mod smtp;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use civic311_store::SharedStore;

pub use app::TestApp;

/// The two stores every conformance and API test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("civic311_test_{}_{}_{}", std::process::id(), nanos, n)
}

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    match std::env::var("CIVIC311_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => panic!(
            "CIVIC311_TEST_POSTGRES_URL is not set: run the suite with scripts/test, which starts a \
             throwaway PostgreSQL server, or point it at a server you own"
        ),
    }
}

/// A new, empty directory under the system's temporary one, its name starting with
/// `label`; removed when the test that made it ends well, if it runs inside
/// [`cleaning_up`] (every [`both_backends!`] test does; any other must remove it).
pub fn scratch_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{label}-{}", unique_name()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    made(Made::Directory(dir.clone()));
    dir
}

/// Notes what the running test made, for [`cleaning_up`] to clear away.
fn made(what: Made) {
    let _ = CREATED.try_with(|made| {
        if let Ok(mut m) = made.lock() {
            m.push(what);
        }
    });
}

/// The URL of a fresh, empty database (a new file, or a new PostgreSQL database).
pub async fn fresh_database_url(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let dir = scratch_dir("civic311-db");
            format!("sqlite://{}", dir.join("civic311.db").display())
        }
        Backend::Postgres => {
            let server = postgres_url();
            let name = unique_name();
            // Dropped when the test that made it ends well (see `cleaning_up`).
            made(Made::Database(name.clone()));
            let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
                .await
                .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server at {server}: {e}"));
            sqlx::Executor::execute(&mut admin, sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create a test database");
            match server.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("CIVIC311_TEST_POSTGRES_URL must end in /DATABASE"),
            }
        }
    }
}

/// What a test made that outlives it unless cleared away.
enum Made {
    /// A PostgreSQL database, by name.
    Database(String),
    /// A scratch directory (SQLite databases live in one).
    Directory(std::path::PathBuf),
}

tokio::task_local! {
    /// The PostgreSQL databases and scratch directories the running test made.
    static CREATED: std::sync::Mutex<Vec<Made>>;
}

/// Runs `test`, then drops every PostgreSQL database and removes every scratch
/// directory it made, so a suite run leaves the server and the disk as it found them.
/// A test that fails (panics) keeps both, for looking at what it left.
/// [`both_backends!`] wraps every test in this.
pub async fn cleaning_up(test: impl std::future::Future<Output = ()>) {
    let made = CREATED.scope(std::sync::Mutex::new(Vec::new()), async {
        test.await;
        CREATED.with(|made| match made.lock() {
            Ok(mut m) => std::mem::take(&mut *m),
            Err(_) => Vec::new(),
        })
    });
    let mut databases = Vec::new();
    for m in made.await {
        match m {
            // A store still open holds its files, which Unix removes all the same.
            Made::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Made::Database(name) => databases.push(name),
        }
    }
    if databases.is_empty() {
        return;
    }
    let server = postgres_url();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server at {server}: {e}"));
    for name in databases {
        // FORCE ends the connections the test's stores still hold.
        sqlx::Executor::execute(
            &mut admin,
            sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
        )
        .await
        .unwrap_or_else(|e| panic!("dropping test database {name}: {e}"));
    }
}

/// Opens the store at a URL made by [`fresh_database_url`].
pub async fn open_store(backend: Backend, url: &str) -> SharedStore {
    match backend {
        Backend::Sqlite => Arc::new(civic311_store_sqlite::open(url).await.expect("open the SQLite store")),
        Backend::Postgres => Arc::new(civic311_store_postgres::open(url).await.expect("open the PostgreSQL store")),
    }
}

/// A fresh, empty, migrated store.
pub async fn empty_store(backend: Backend) -> SharedStore {
    let url = fresh_database_url(backend).await;
    open_store(backend, &url).await
}

/// A fresh store holding the fixture city.
pub async fn seeded_store(backend: Backend) -> SharedStore {
    let store = empty_store(backend).await;
    fixture::seed(store.as_ref()).await;
    store
}

/// Expands a list of `async fn NAME(backend: Backend)` tests into one `#[tokio::test]`
/// per backend: `NAME::sqlite` and `NAME::postgres`. No test reaches only one backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::cleaning_up(super::$name($crate::Backend::Sqlite)).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::cleaning_up(super::$name($crate::Backend::Postgres)).await;
                }
            }
        )*
    };
}
