//! A first import of a city's history writes its requests without keeping their
//! secondary indexes (and, on PostgreSQL, the foreign keys to them) up to date row by
//! row: it sets them aside, writes, and builds them again in one pass each — the way
//! PostgreSQL's guide to populating a database advises, and what SQLite's `CREATE
//! INDEX` does fastest (sorted, each page written once).
//!
//! What is set aside is recorded, with the statement that builds it again, in
//! `parked_schema` in the same transaction that drops it, so an import cut off half
//! way leaves nothing missing for long: the store builds it again when it next opens.
//! Unique indexes and primary keys are never set aside: they keep the data correct
//! while the import runs, and the import reads by them.

use super::{Param, SqlBackend, SqlTx};
use crate::error::{StoreError, StoreResult};

/// The tables an import writes a row (or more) to for every request, as a list of SQL
/// strings.
pub const IMPORT_TABLES: &str = "'requests', 'events', 'request_areas', 'timers'";

/// Sets aside what [`SqlBackend::parkable`] lists, when the city holds fewer than
/// `below` requests and nothing is set aside already. How many indexes and keys it
/// set aside (0 when it did not).
pub async fn park(tx: &mut dyn SqlTx, parkable: &str, below: i64) -> StoreResult<usize> {
    if tx.fetch_i64("SELECT count(*) FROM parked_schema", vec![]).await? > 0 {
        return Ok(0);
    }
    // Counting stops at `below`: a city with millions of requests is not read through.
    let held =
        tx.fetch_i64("SELECT count(*) FROM (SELECT 1 FROM requests LIMIT $1) AS r", vec![Param::I64(below)]).await?;
    if held >= below {
        return Ok(0);
    }
    let listed = tx.fetch_bodies(parkable, vec![]).await?;
    for row in &listed {
        let [drop, build]: [String; 2] =
            serde_json::from_str(&row.body).map_err(|e| StoreError::Corrupt(format!("parkable schema: {e}")))?;
        tx.execute("INSERT INTO parked_schema (build) VALUES ($1)", vec![Param::Text(build)]).await?;
        tx.execute_script(&drop).await?;
    }
    Ok(listed.len())
}

/// Builds again everything `park` set aside, in the order it was set aside, in one
/// transaction. How many indexes and keys it built. Every opening of a store calls it:
/// with nothing set aside it writes nothing.
pub async fn restore<B: SqlBackend>(backend: &B) -> StoreResult<usize> {
    backend
        .write(Box::new(|tx: &mut dyn SqlTx| {
            Box::pin(async move {
                let parked = tx.fetch_bodies("SELECT build AS body FROM parked_schema ORDER BY id", vec![]).await?;
                if parked.is_empty() {
                    return Ok(0);
                }
                for row in &parked {
                    tx.execute_script(&row.body).await?;
                }
                tx.execute("DELETE FROM parked_schema", vec![]).await?;
                Ok(parked.len())
            })
        }))
        .await
}
