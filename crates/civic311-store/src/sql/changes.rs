//! The change stamps behind the open-data change feed: every transaction that writes a
//! request stamps it, and the feed reads requests in stamp order from a cursor.
//!
//! A stamp must never land behind a reader's cursor. On SQLite one transaction writes
//! at a time, so the next number (one more than the largest) follows commit order. On
//! PostgreSQL transactions commit in any order, so a request is stamped with its
//! transaction's id and the feed only hands out stamps older than every transaction
//! still running ([`SqlBackend::settled_changes`](super::SqlBackend::settled_changes)):
//! those can no longer be joined by an older one.

use super::writes::placeholders;
use super::{Param, SqlTx};
use crate::error::StoreResult;

/// `sqlx`'s name for the PostgreSQL driver ([`sqlx::Database::NAME`]).
pub const POSTGRES: &str = "PostgreSQL";

/// The expression of this transaction's stamp (see the module's documentation).
fn expression(tx: &dyn SqlTx) -> &'static str {
    if tx.driver() == POSTGRES {
        "pg_current_xact_id()::text::bigint"
    } else {
        // Evaluated once per statement; the `requests_changed` index answers it.
        "(SELECT COALESCE(MAX(changed), 0) + 1 FROM requests)"
    }
}

/// The stamp for requests this transaction inserts now, written with them in one
/// statement rather than by a second pass over the rows ([`mark`]).
pub async fn stamp(tx: &mut dyn SqlTx) -> StoreResult<i64> {
    let sql = format!("SELECT {}", expression(tx));
    tx.fetch_i64(&sql, vec![]).await
}

/// Stamps the requests `ids`, written in this transaction, as changed by it.
pub async fn mark(tx: &mut dyn SqlTx, ids: &[i64]) -> StoreResult<()> {
    let stamp = expression(tx);
    for chunk in ids.chunks(500) {
        let params = chunk.iter().map(|id| Param::I64(*id)).collect();
        let list = placeholders(chunk.len(), 1).replace(['(', ')'], "");
        tx.execute(&format!("UPDATE requests SET changed = {stamp} WHERE id IN ({list})"), params).await?;
    }
    Ok(())
}
