//! Opening a store from a database URL.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use civic311_store::SharedStore;

/// Opens (and migrates) the store a URL names: `sqlite://…` or `postgres://…`.
pub async fn open(url: &str) -> Result<SharedStore> {
    if url.starts_with("sqlite:") {
        let store = civic311_store_sqlite::open(url).await.with_context(|| format!("opening {url}"))?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store =
            civic311_store_postgres::open(url).await.with_context(|| format!("connecting to {}", redact(url)))?;
        Ok(Arc::new(store))
    } else {
        bail!("unsupported database URL '{}': use sqlite://PATH or postgres://…", redact(url))
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
