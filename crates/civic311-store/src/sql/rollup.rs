//! The report rollups in SQL: the queue of requests written since the last drain, what
//! each request adds to the cells now, and the cells (see
//! [`civic311_domain::report::rollup`]). A drain runs in one transaction, so the cells
//! always add up to the facts recorded beside them.

use std::collections::{BTreeMap, BTreeSet};

use civic311_domain::report::rollup::{Cell, CellKey, Cells, Contribution, Grain, place_of};
use civic311_domain::request::{Event, ServiceRequest, Status, from_micros, to_micros};
use jiff::Timestamp;

use super::writes::{REQUEST_COLUMNS, placeholders, rows_per_insert};
use super::{Param, SqlTx};
use crate::error::{StoreError, StoreResult};

/// Recomputes what a request adds to the rollups, from the request, its status,
/// transfer, reopening, rating, escalation and follow events (oldest first), and when
/// another request of its place was last resolved before it was filed.
pub type Rollup = std::sync::Arc<dyn Fn(&ServiceRequest, &[Event], Option<Timestamp>) -> Contribution + Send + Sync>;

/// Separates the fields of a cell as read back in one text column.
const FIELD: &str = "\u{1e}";
/// Keys (four parameters each) per statement.
const KEYS_PER_STATEMENT: usize = 200;

/// Queues requests for the rollups, in the transaction that writes them.
pub async fn queue(tx: &mut dyn SqlTx, ids: &[i64]) -> StoreResult<()> {
    for chunk in ids.chunks(rows_per_insert(1)) {
        let params = chunk.iter().map(|id| Param::I64(*id)).collect();
        let sql = format!("INSERT INTO report_dirty (request_id) VALUES {}", placeholders(chunk.len(), 1));
        tx.execute(&sql, params).await?;
    }
    Ok(())
}

fn list(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Takes up to `limit` queued entries and moves the cells by what their requests add
/// now less what they added before. How many entries were taken; a `Conflict` when
/// another drain took some of them first (nothing is then written).
pub async fn drain(tx: &mut dyn SqlTx, lock: &str, limit: i64, rollup: &Rollup) -> StoreResult<usize> {
    if !lock.is_empty() {
        tx.execute(lock, vec![]).await?;
    }
    let queued = tx
        .fetch_bodies(
            "SELECT CAST(id AS TEXT) || ' ' || CAST(request_id AS TEXT) AS body FROM report_dirty ORDER BY id LIMIT $1",
            vec![Param::I64(limit)],
        )
        .await?;
    if queued.is_empty() {
        return Ok(0);
    }
    let mut taken = Vec::with_capacity(queued.len());
    let mut seqs = BTreeSet::new();
    for row in &queued {
        let pair = row.body.split_once(' ').and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?)));
        let (id, seq) = pair.ok_or_else(|| StoreError::Corrupt(format!("report queue entry '{}'", row.body)))?;
        taken.push(id);
        seqs.insert(seq);
    }
    let seqs: Vec<i64> = seqs.into_iter().collect();
    let mut cells = Cells::new();
    let mut facts = Vec::new();
    let mut gone = Vec::new();
    for chunk in seqs.chunks(500) {
        let ids = || chunk.iter().map(|s| Param::I64(*s)).collect::<Vec<_>>();
        let before = tx
            .fetch_bodies(
                &format!("SELECT data AS body FROM report_facts WHERE request_id IN ({})", list(1, chunk.len())),
                ids(),
            )
            .await?;
        for row in before {
            let old: Contribution = row.parse("report facts")?;
            old.apply(-1, &mut cells);
        }
        let requests = tx
            .fetch_requests(
                &format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id IN ({})", list(1, chunk.len())),
                ids(),
            )
            .await?;
        let events = tx
            .fetch_events(
                &format!(
                    "SELECT id, request_id, at, kind, actor, data FROM events WHERE request_id IN ({}) \
                     AND kind IN ('status_changed', 'transferred', 'reopened', 'rated', 'escalated', 'followed') \
                     ORDER BY request_id, id",
                    list(1, chunk.len())
                ),
                ids(),
            )
            .await?;
        let mut by_request: BTreeMap<i64, Vec<Event>> = BTreeMap::new();
        for e in events {
            by_request.entry(e.request_id).or_default().push(e.into_domain()?);
        }
        let requests = requests.into_iter().map(|row| row.into_domain()).collect::<StoreResult<Vec<_>>>()?;
        let last = places(tx, &requests, chunk).await?;
        let found: BTreeSet<i64> = requests.iter().map(|r| r.id.seq).collect();
        for r in &requests {
            let now = rollup(r, by_request.get(&r.id.seq).map_or(&[][..], Vec::as_slice), last.get(&r.id.seq).copied());
            now.apply(1, &mut cells);
            facts.push(now);
        }
        gone.extend(chunk.iter().filter(|s| !found.contains(s)));
    }
    write_cells(tx, cells).await?;
    write_facts(tx, &facts, &gone).await?;
    let mut deleted = 0;
    for chunk in taken.chunks(500) {
        let params = chunk.iter().map(|id| Param::I64(*id)).collect();
        deleted +=
            tx.execute(&format!("DELETE FROM report_dirty WHERE id IN ({})", list(1, chunk.len())), params).await?;
    }
    if deleted != taken.len() as u64 {
        return Err(StoreError::Conflict("another drain added some of these requests first".into()));
    }
    Ok(taken.len())
}

/// Records where each of `requests` (the ones of `chunk` still stored) is and when it
/// was resolved, then finds for each when another request of its place was last
/// resolved before it was filed.
async fn places(
    tx: &mut dyn SqlTx,
    requests: &[ServiceRequest],
    chunk: &[i64],
) -> StoreResult<BTreeMap<i64, Timestamp>> {
    let params = chunk.iter().map(|s| Param::I64(*s)).collect();
    tx.execute(&format!("DELETE FROM report_places WHERE request_id IN ({})", list(1, chunk.len())), params).await?;
    let placed: Vec<(&ServiceRequest, String)> = requests.iter().filter_map(|r| Some((r, place_of(r)?))).collect();
    for part in placed.chunks(300) {
        let mut params = Vec::with_capacity(part.len() * 3);
        for (r, place) in part {
            let resolved = matches!(r.status, Status::Resolved | Status::Closed).then_some(r.closed_at).flatten();
            params.push(Param::I64(r.id.seq));
            params.push(Param::Text(place.clone()));
            params.push(Param::OptI64(resolved.map(to_micros)));
        }
        let sql = format!(
            "INSERT INTO report_places (request_id, place, resolved_at) VALUES {}",
            placeholders(part.len(), 3)
        );
        tx.execute(&sql, params).await?;
    }
    let mut last = BTreeMap::new();
    for part in placed.chunks(300) {
        let mut params = Vec::with_capacity(part.len() * 3 + 1);
        params.push(field());
        let rows: Vec<String> = (0..part.len())
            .map(|i| {
                format!(
                    "(CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT))",
                    3 * i + 2,
                    3 * i + 3,
                    3 * i + 4
                )
            })
            .collect();
        for (r, place) in part {
            params.push(Param::I64(r.id.seq));
            params.push(Param::Text(place.clone()));
            params.push(Param::I64(to_micros(r.requested_at)));
        }
        let sql = format!(
            "WITH asked (id, place, filed) AS (VALUES {}) \
             SELECT CAST(asked.id AS TEXT) || $1 || CAST(MAX(p.resolved_at) AS TEXT) AS body FROM asked \
             JOIN report_places p ON p.place = asked.place AND p.request_id <> asked.id \
             AND p.resolved_at <= asked.filed GROUP BY asked.id",
            rows.join(", ")
        );
        for row in tx.fetch_bodies(&sql, params).await? {
            let bad = || StoreError::Corrupt(format!("report place '{}'", row.body));
            let (id, at) = row.body.split_once(FIELD).ok_or_else(bad)?;
            let (id, at) = (id.parse::<i64>().map_err(|_| bad())?, at.parse::<i64>().map_err(|_| bad())?);
            last.insert(id, from_micros(at));
        }
    }
    Ok(last)
}

fn key_params(keys: &[&CellKey]) -> Vec<Param> {
    keys.iter()
        .flat_map(|k| {
            [
                Param::Text(k.cube.clone()),
                Param::I64(k.grain.code()),
                Param::I64(i64::from(k.start)),
                Param::Text(k.dims.clone()),
            ]
        })
        .collect()
}

/// Adds `deltas` to the stored cells: each is read, moved and written back (or
/// removed when it no longer counts anything).
async fn write_cells(tx: &mut dyn SqlTx, mut deltas: Cells) -> StoreResult<()> {
    deltas.retain(|_, c| !c.is_empty());
    // In the order of the cells' index, which SQLite then walks once.
    let mut keys: Vec<CellKey> = deltas.keys().cloned().collect();
    keys.sort_unstable();
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let refs: Vec<&CellKey> = chunk.iter().collect();
        // Joined with the keys, not `(cube, grain, start, dims) IN (…)`: SQLite reads
        // that by scanning every cell (a quarter of a second at 1,700,000 cells), but
        // looks each joined key up in the primary key.
        let tuples = (0..chunk.len()).map(|i| {
            format!(
                "(CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS TEXT))",
                4 * i + 2,
                4 * i + 3,
                4 * i + 4,
                4 * i + 5
            )
        });
        let sql = format!(
            "WITH k (cube, grain, start, dims) AS (VALUES {}) \
             SELECT c.cube || $1 || CAST(c.grain AS TEXT) || $1 || CAST(c.start AS TEXT) || $1 || c.dims || $1 || c.data \
             AS body FROM k JOIN report_cells c \
             ON c.cube = k.cube AND c.grain = k.grain AND c.start = k.start AND c.dims = k.dims",
            tuples.collect::<Vec<_>>().join(", ")
        );
        let mut params = vec![Param::Text(FIELD.to_owned())];
        params.extend(key_params(&refs));
        for row in tx.fetch_bodies(&sql, params).await? {
            let (key, stored) = parse_cell(&row.body)?;
            if let Some(delta) = deltas.get_mut(&key) {
                let mut sum = stored;
                sum.add(delta, 1);
                *delta = sum;
            }
        }
        for k in &refs {
            if let Some(c) = deltas.get_mut(*k) {
                c.settle();
            }
        }
        let (keep, empty): (Vec<&CellKey>, Vec<&CellKey>) = refs.iter().partition(|k| !deltas[**k].is_empty());
        if !keep.is_empty() {
            let mut params = Vec::with_capacity(keep.len() * 5);
            for k in &keep {
                params.extend(key_params(&[k]));
                params.push(Param::Text(deltas[*k].encode()));
            }
            let sql = format!(
                "INSERT INTO report_cells (cube, grain, start, dims, data) VALUES {} \
                 ON CONFLICT (cube, grain, start, dims) DO UPDATE SET data = excluded.data",
                placeholders(keep.len(), 5)
            );
            tx.execute(&sql, params).await?;
        }
        if !empty.is_empty() {
            // One primary-key lookup per key (see the read above).
            let tuples = (0..empty.len()).map(|i| {
                format!(
                    "(cube = ${} AND grain = ${} AND start = ${} AND dims = ${})",
                    4 * i + 1,
                    4 * i + 2,
                    4 * i + 3,
                    4 * i + 4
                )
            });
            let sql = format!("DELETE FROM report_cells WHERE {}", tuples.collect::<Vec<_>>().join(" OR "));
            tx.execute(&sql, key_params(&empty)).await?;
        }
    }
    Ok(())
}

async fn write_facts(tx: &mut dyn SqlTx, facts: &[Contribution], gone: &[i64]) -> StoreResult<()> {
    for chunk in facts.chunks(500) {
        let mut params = Vec::with_capacity(chunk.len() * 2);
        for f in chunk {
            params.push(Param::I64(f.request));
            params.push(Param::Text(super::writes::to_json(f)));
        }
        let sql = format!(
            "INSERT INTO report_facts (request_id, data) VALUES {} \
             ON CONFLICT (request_id) DO UPDATE SET data = excluded.data",
            placeholders(chunk.len(), 2)
        );
        tx.execute(&sql, params).await?;
    }
    for chunk in gone.chunks(500) {
        let params = chunk.iter().map(|s| Param::I64(*s)).collect();
        tx.execute(&format!("DELETE FROM report_facts WHERE request_id IN ({})", list(1, chunk.len())), params).await?;
    }
    Ok(())
}

/// A cell read back as `cube FIELD grain FIELD start FIELD dims FIELD data`.
fn parse_cell(body: &str) -> StoreResult<(CellKey, Cell)> {
    let bad = || StoreError::Corrupt(format!("report cell '{body}'"));
    let mut f = body.splitn(5, FIELD);
    let cube = f.next().ok_or_else(bad)?.to_owned();
    let grain = match f.next().ok_or_else(bad)? {
        "0" => Grain::Day,
        "1" => Grain::Week,
        "2" => Grain::Month,
        "3" => Grain::All,
        _ => return Err(bad()),
    };
    let start = f.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let dims = f.next().ok_or_else(bad)?.to_owned();
    let cell = f.next().and_then(Cell::decode).ok_or_else(bad)?;
    Ok((CellKey { cube, grain, start, dims }, cell))
}

/// The cells of `cube` at `grain` starting on any of `starts`: `(start, dims, data)`.
pub fn cells_sql(n: usize) -> String {
    format!(
        "SELECT CAST(start AS TEXT) || $1 || dims || $1 || data AS body FROM report_cells \
         WHERE cube = $2 AND grain = $3 AND start IN ({})",
        list(4, n)
    )
}

/// Parses a row of [`cells_sql`].
pub fn parse_read(body: &str) -> StoreResult<(i32, String, String)> {
    let bad = || StoreError::Corrupt(format!("report cell '{body}'"));
    let mut f = body.splitn(3, FIELD);
    let start = f.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let dims = f.next().ok_or_else(bad)?.to_owned();
    let data = f.next().ok_or_else(bad)?.to_owned();
    Ok((start, dims, data))
}

/// The separator [`cells_sql`] joins fields with (its first parameter).
pub fn field() -> Param {
    Param::Text(FIELD.to_owned())
}
