//! Units of work that change requests: the statements run inside one transaction.

use std::collections::BTreeMap;

use civic311_domain::notify::Message;
use civic311_domain::request::{EventKind, Media, ServiceRequest, Status, to_micros};
use civic311_domain::workflow::Timer;
use jiff::Timestamp;
use serde_json::json;

use super::{IdTokenRow, Param, SqlTx};
use crate::Intake;
use crate::error::{StoreError, StoreResult};

/// Every column of `requests`, in [`RequestRow`](super::RequestRow) order.
pub const REQUEST_COLUMNS: &str = "id, service_code, description, lat, lon, address, address_id, zipcode, answers, channel, \
     contact, status, status_notes, department, team, assignee, priority, tags, areas, media_url, media_ids, token, \
     requested_at, updated_at, closed_at, expected_at, workflow, version";

/// The columns an insert writes (all but `id` and `version`), `contact_email` (the
/// requester's address lowercased, which "my requests" looks up) and `changed` (the
/// transaction's stamp for the change feed).
const INSERT_COLUMNS: &str = "service_code, description, lat, lon, address, address_id, zipcode, answers, channel, \
     contact, status, status_notes, department, team, assignee, priority, tags, areas, media_url, media_ids, token, \
     requested_at, updated_at, closed_at, expected_at, workflow, contact_email, changed";
const INSERT_WIDTH: usize = 28;

/// Most parameters in one multi-row INSERT. Both drivers bind by position (SQLite's
/// statements are rewritten to anonymous placeholders, [`super::bind::positional`]),
/// so a large statement costs no more a value than a small one, and each statement is
/// a round trip (to SQLite's worker thread, or to the PostgreSQL server): importing
/// 200,000 requests took 52 s in statements of 1,000 parameters and 26 s in statements
/// of 16,000 on SQLite. Both limits are higher (32,766 and 65,535).
const MAX_PARAMS: usize = 16_000;

/// Rows per multi-row INSERT of a table `width` columns wide.
pub fn rows_per_insert(width: usize) -> usize {
    (MAX_PARAMS / width).max(1)
}

pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Serialising plain maps, vectors and derived structs cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// `($1, $2, …), ($n, …)` for `rows` rows of `width` parameters.
pub fn placeholders(rows: usize, width: usize) -> String {
    let mut s = String::with_capacity(rows * width * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..width {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(r * width + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

/// A new request's state as stored.
pub struct Prepared {
    status: Status,
    notes: Option<String>,
    updated_at: Timestamp,
    closed_at: Option<Timestamp>,
    expected_at: Option<Timestamp>,
}

fn prepare(i: &Intake) -> Prepared {
    if let Some(m) = &i.imported {
        return Prepared {
            status: m.status,
            notes: m.status_notes.clone(),
            updated_at: m.updated_at,
            closed_at: m.closed_at,
            expected_at: m.expected_at,
        };
    }
    let expected_at = i.workflow.sla.as_ref().map(|c| c.resolution_due);
    match &i.closed {
        Some((at, note)) => Prepared {
            status: Status::Closed,
            notes: Some(note.clone()),
            updated_at: *at,
            closed_at: Some(*at),
            expected_at,
        },
        None => Prepared {
            status: Status::Open,
            notes: None,
            updated_at: i.request.requested_at,
            closed_at: None,
            expected_at,
        },
    }
}

/// The values of a request's row, but for its last, the transaction's stamp.
fn request_params(i: &Intake, p: &Prepared) -> Vec<Param> {
    let r = &i.request;
    let a = &i.decision.assignment;
    let point = r.location.point;
    Vec::from([
        Param::Text(r.service_code.clone()),
        Param::Text(r.description.as_str().to_owned()),
        Param::OptF64(point.map(|p| p.lat)),
        Param::OptF64(point.map(|p| p.lon)),
        Param::OptText(r.location.address.clone()),
        Param::OptText(r.location.address_id.clone()),
        Param::OptText(r.location.zipcode.clone()),
        Param::Text(to_json(&r.answers)),
        Param::Text(r.channel.as_str().to_owned()),
        Param::Text(to_json(&r.contact)),
        Param::Text(p.status.as_str().to_owned()),
        Param::OptText(p.notes.clone()),
        Param::Text(a.department.clone()),
        Param::OptText(a.team.clone()),
        Param::OptText(a.assignee.clone()),
        Param::Text(a.priority.as_str().to_owned()),
        Param::Text(to_json(&a.tags)),
        Param::Text(to_json(&r.areas)),
        Param::OptText(r.media_url.clone()),
        Param::Text("[]".to_owned()),
        Param::Text(i.token.clone()),
        Param::I64(to_micros(r.requested_at)),
        Param::I64(to_micros(p.updated_at)),
        Param::OptI64(p.closed_at.map(to_micros)),
        Param::OptI64(p.expected_at.map(to_micros)),
        Param::Text(to_json(&i.workflow)),
        Param::OptText(r.contact.email.as_deref().map(|e| e.trim().to_ascii_lowercase())),
    ])
}

/// A new request's row and first events, built before the transaction that writes it:
/// building them took about a sixth of SQLite's single writer's time through an import,
/// and outside the transaction it runs while the writer stores the batch before
/// ([`plan`], [`insert_planned`]).
pub struct Planned {
    prepared: Prepared,
    /// The values of its row but the last (the stamp, only known in the transaction).
    row: Vec<Param>,
    /// Its first events, to be sealed once its number is known.
    events: Vec<Unsealed>,
}

/// Builds what [`insert_planned`] writes for `intake`.
pub fn plan(intake: &Intake) -> Planned {
    let prepared = prepare(intake);
    let row = request_params(intake, &prepared);
    let events = events_of(intake, &prepared);
    Planned { prepared, row, events }
}

/// An event about to be appended, sealed into its request's hash chain.
pub struct EventIn {
    pub request: i64,
    pub at: Timestamp,
    pub kind: EventKind,
    pub actor: String,
    pub data: String,
    /// Its hash, which covers the previous event's (see `civic311_domain::audit`).
    pub hash: String,
}

/// An event before it is sealed: when, what, who, and its data as JSON text.
type Unsealed = (Timestamp, EventKind, String, String);

/// Seals `events` of one request after the event whose hash is `prev`.
pub fn seal(request: i64, prev: &str, events: Vec<(Timestamp, EventKind, String, serde_json::Value)>) -> Vec<EventIn> {
    seal_text(request, prev, as_text(events))
}

/// Events with their data written out as JSON text.
fn as_text(events: Vec<(Timestamp, EventKind, String, serde_json::Value)>) -> Vec<Unsealed> {
    events.into_iter().map(|(at, kind, actor, data)| (at, kind, actor, data.to_string())).collect()
}

/// [`seal`] for events whose data is already JSON text.
fn seal_text(request: i64, prev: &str, events: Vec<Unsealed>) -> Vec<EventIn> {
    let mut prev = prev.to_owned();
    events
        .into_iter()
        .map(|(at, kind, actor, data)| {
            let at = round(at);
            let hash = civic311_domain::audit::link(&prev, request, to_micros(at), kind.as_str(), &actor, &data);
            prev.clone_from(&hash);
            EventIn { request, at, kind, actor, data, hash }
        })
        .collect()
}

/// The events a new request starts its history with, in the order they happened.
fn events_of(i: &Intake, p: &Prepared) -> Vec<Unsealed> {
    let r = &i.request;
    let mut created = json!({ "service_code": r.service_code, "channel": r.channel.as_str(), "areas": r.areas });
    if let Some(staff) = &i.logged_by {
        created["logged_by"] = json!(staff);
    }
    // What an import writes says so, and where it came from.
    let source = i.imported.as_ref().map(|m| m.source.as_str());
    if let Some(source) = source {
        created["imported"] = json!(source);
    }
    let mut out = vec![
        (r.requested_at, EventKind::Created, i.logged_by.clone().unwrap_or_else(|| "resident".to_owned()), created),
        (r.requested_at, EventKind::Routed, "rules".to_owned(), routed(i)),
    ];
    out.extend(i.history.iter().map(|e| (e.at, e.kind, e.actor.clone(), e.data.clone())));
    let moved = !p.status.is_closed() && !matches!(p.status, Status::New | Status::Open);
    if let (Some(source), true) = (source, moved) {
        // Imported while in progress, on hold…: the status it had, from when it last changed.
        let data = json!({ "from": "open", "to": p.status.as_str(), "note": p.notes, "imported": source });
        out.push((p.updated_at, EventKind::StatusChanged, "system".to_owned(), data));
    }
    if let Some(closed) = p.closed_at {
        // It closes from the last status its past left it in.
        let from = i
            .history
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::StatusChanged)
            .and_then(|e| e.data["to"].as_str())
            .unwrap_or("open");
        out.push((
            closed,
            EventKind::StatusChanged,
            "system".to_owned(),
            match source {
                Some(source) => json!({ "from": from, "to": p.status.as_str(), "note": p.notes, "imported": source }),
                None => json!({ "from": from, "to": p.status.as_str(), "note": p.notes }),
            },
        ));
    }
    // In the order they happened (a rating comes after the close).
    out.sort_by_key(|e| e.0);
    as_text(out)
}

/// What the `routed` event keeps of the decision: the assignment, where the owner and
/// priority came from, and the names of the rules that matched. Not the conditions each
/// rule met (the rules page shows them for any request) nor the SLA state (the
/// request's own `workflow` column holds it): at a few hundred bytes per request, they
/// were the largest thing intake wrote.
fn routed(i: &Intake) -> serde_json::Value {
    let trace = &i.decision.trace;
    let rules: Vec<&str> = trace.matched.iter().map(|m| m.rule.as_str()).collect();
    json!({
        "assignment": i.decision.assignment,
        "owner_from": trace.owner_from,
        "priority_from": trace.priority_from,
        "rules": rules,
    })
}

/// Appends sealed events.
pub async fn insert_events(tx: &mut dyn SqlTx, events: Vec<EventIn>) -> StoreResult<()> {
    let per_insert = rows_per_insert(6);
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let mut params = Vec::with_capacity(per_insert * 6);
        // The texts are moved into the statement, not copied: an import appends
        // millions.
        for e in events.by_ref().take(per_insert) {
            params.extend([
                Param::I64(e.request),
                Param::I64(to_micros(e.at)),
                Param::Text(e.kind.as_str().to_owned()),
                Param::Text(e.actor),
                Param::Text(e.data),
                Param::Text(e.hash),
            ]);
        }
        let sql = format!(
            "INSERT INTO events (request_id, at, kind, actor, data, hash) VALUES {}",
            placeholders(params.len() / 6, 6)
        );
        tx.execute(&sql, params).await?;
    }
    Ok(())
}

async fn insert_areas(tx: &mut dyn SqlTx, areas: Vec<(i64, &str, &str)>) -> StoreResult<()> {
    for chunk in areas.chunks(rows_per_insert(3)) {
        let mut params = Vec::with_capacity(chunk.len() * 3);
        for (id, layer, feature) in chunk {
            params.extend([Param::Text((*layer).to_owned()), Param::Text((*feature).to_owned()), Param::I64(*id)]);
        }
        let sql =
            format!("INSERT INTO request_areas (layer, feature, request_id) VALUES {}", placeholders(chunk.len(), 3));
        tx.execute(&sql, params).await?;
    }
    Ok(())
}

/// Records where imported requests came from.
async fn insert_sources(tx: &mut dyn SqlTx, sources: &[(String, i64)]) -> StoreResult<()> {
    for chunk in sources.chunks(rows_per_insert(2)) {
        let mut params = Vec::with_capacity(chunk.len() * 2);
        for (source, id) in chunk {
            params.extend([Param::Text(source.clone()), Param::I64(*id)]);
        }
        let sql = format!("INSERT INTO request_sources (source, request_id) VALUES {}", placeholders(chunk.len(), 2));
        tx.execute(&sql, params).await?;
    }
    Ok(())
}

/// The number the next new request takes when the store numbers them itself: on
/// SQLite, one past the largest stored (what SQLite would give it; one writer, so
/// nothing else takes it first), so that an insert returns nothing: handing back the
/// numbers of an import's requests row by row was a fifth of the time their insert
/// took. `None` on PostgreSQL, whose sequence numbers concurrent transactions.
async fn next_number(tx: &mut dyn SqlTx) -> StoreResult<Option<i64>> {
    if tx.driver() == super::changes::POSTGRES {
        return Ok(None);
    }
    Ok(Some(tx.fetch_i64("SELECT COALESCE(MAX(id), 0) + 1 FROM requests", vec![]).await?))
}

/// The number a request keeps (an import of our own export), if any.
fn kept_number(i: &Intake) -> Option<i64> {
    i.imported.as_ref().and_then(|m| m.seq)
}

/// The numbers of a chunk's requests when the store numbers them itself, starting at
/// `next`: those keeping their number (`kept`, imports of our own export) keep it, the
/// others are numbered after every number stored or kept, as the database would.
fn numbers(kept: &[Option<i64>], next: i64) -> Vec<i64> {
    let mut after = kept.iter().flatten().map(|seq| seq + 1).fold(next, i64::max);
    kept.iter()
        .map(|seq| {
            seq.unwrap_or_else(|| {
                after += 1;
                after - 1
            })
        })
        .collect()
}

/// Inserts `chunk`'s requests where the database numbers them (PostgreSQL's sequence):
/// those keeping their number first, with it, then the others, numbered after them;
/// their numbers, in `chunk`'s order.
async fn insert_numbered_by_database(
    tx: &mut dyn SqlTx,
    chunk: &[Intake],
    plans: &mut [Planned],
    stamp: i64,
) -> StoreResult<Vec<i64>> {
    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    for keep in [true, false] {
        let rows: Vec<usize> = (0..chunk.len()).filter(|&k| kept_number(&chunk[k]).is_some() == keep).collect();
        if rows.is_empty() {
            continue;
        }
        let width = INSERT_WIDTH + usize::from(keep);
        let mut params = Vec::with_capacity(rows.len() * width);
        for &k in &rows {
            if let Some(seq) = kept_number(&chunk[k]) {
                params.push(Param::I64(seq));
                ids.insert(chunk[k].token.clone(), seq);
            }
            params.append(&mut plans[k].row);
            params.push(Param::I64(stamp));
        }
        let columns = if keep { format!("id, {INSERT_COLUMNS}") } else { INSERT_COLUMNS.to_owned() };
        let sql = format!("INSERT INTO requests ({columns}) VALUES {}", placeholders(rows.len(), width));
        if keep {
            tx.execute(&sql, params).await?;
            pass_kept_numbers(tx).await?;
        } else {
            let returned = tx.insert_returning(&format!("{sql} RETURNING id, token"), params).await?;
            ids.extend(returned.into_iter().map(|IdTokenRow { id, token }| (token, id)));
        }
    }
    chunk
        .iter()
        .map(|i| {
            ids.get(&i.token)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("insert returned no id for token {}", i.token)))
        })
        .collect()
}

/// Each request's boundary areas and its first events, sealed, as rows to insert.
fn sealed<'a>(chunk: &'a [Intake], plans: &mut [Planned], ids: &[i64]) -> (Vec<(i64, &'a str, &'a str)>, Vec<EventIn>) {
    let mut areas = Vec::new();
    let mut events = Vec::new();
    for ((i, p), &id) in chunk.iter().zip(plans).zip(ids) {
        areas.extend(i.request.areas.iter().map(|(l, f)| (id, l.as_str(), f.as_str())));
        events.extend(seal_text(id, "", std::mem::take(&mut p.events)));
    }
    (areas, events)
}

/// After requests were inserted with numbers they kept: moves PostgreSQL's sequence past
/// them, or the next new request would take one; never back (`nextval` is past every
/// number a running intake has taken). SQLite numbers after the largest anyway.
async fn pass_kept_numbers(tx: &mut dyn SqlTx) -> StoreResult<()> {
    if tx.driver() == super::changes::POSTGRES {
        tx.fetch_i64(
            "SELECT setval(pg_get_serial_sequence('requests', 'id'), \
             GREATEST((SELECT MAX(id) FROM requests), nextval(pg_get_serial_sequence('requests', 'id'))))",
            vec![],
        )
        .await?;
    }
    Ok(())
}

/// Inserts requests with their boundary areas, events and media; returns them as stored.
pub async fn insert_intakes(tx: &mut dyn SqlTx, intakes: &[Intake]) -> StoreResult<Vec<ServiceRequest>> {
    let planned = intakes.iter().map(plan).collect();
    let written = insert_planned(tx, intakes, planned).await?;
    Ok(intakes.iter().zip(written).map(|(i, (id, p, media_ids))| stored(id, i, p, media_ids)).collect())
}

/// Inserts requests as [`plan`]ned (`planned[k]` from `intakes[k]`) with their boundary
/// areas, events and media; for each, its number, its stored state and the ids of its
/// public photos.
pub async fn insert_planned(
    tx: &mut dyn SqlTx,
    intakes: &[Intake],
    planned: Vec<Planned>,
) -> StoreResult<Vec<(i64, Prepared, Vec<i64>)>> {
    if planned.len() != intakes.len() {
        return Err(StoreError::Corrupt(format!("{} requests planned for {}", planned.len(), intakes.len())));
    }
    let mut out = Vec::with_capacity(intakes.len());
    let stamp = super::changes::stamp(tx).await?;
    let mut planned = planned.into_iter();
    for chunk in intakes.chunks(rows_per_insert(INSERT_WIDTH)) {
        let mut plans: Vec<Planned> = planned.by_ref().take(chunk.len()).collect();
        let (ids, (areas, events)) = match next_number(tx).await? {
            Some(next) => {
                // Every request is numbered here, so its events are sealed while the
                // database stores the requests (on the driver's own thread).
                let kept: Vec<Option<i64>> = chunk.iter().map(kept_number).collect();
                let ids = numbers(&kept, next);
                let width = INSERT_WIDTH + 1;
                let mut params = Vec::with_capacity(chunk.len() * width);
                for (id, p) in ids.iter().zip(&mut plans) {
                    params.push(Param::I64(*id));
                    params.append(&mut p.row);
                    params.push(Param::I64(stamp));
                }
                let sql =
                    format!("INSERT INTO requests (id, {INSERT_COLUMNS}) VALUES {}", placeholders(chunk.len(), width));
                let (inserted, sealed) =
                    tokio::join!(biased; tx.execute(&sql, params), async { sealed(chunk, &mut plans, &ids) });
                inserted?;
                (ids, sealed)
            }
            None => {
                let ids = insert_numbered_by_database(tx, chunk, &mut plans, stamp).await?;
                let sealed = sealed(chunk, &mut plans, &ids);
                (ids, sealed)
            }
        };
        if !areas.is_empty() {
            insert_areas(tx, areas).await?;
        }
        insert_events(tx, events).await?;
        super::rollup::queue(tx, &ids).await?;
        let sources: Vec<(String, i64)> =
            chunk.iter().zip(&ids).filter_map(|(i, id)| Some((i.imported.as_ref()?.source.clone(), *id))).collect();
        insert_sources(tx, &sources).await?;
        let mut messages = Vec::new();
        let mut timers = Vec::new();
        for (i, &id) in chunk.iter().zip(&ids) {
            let at = i.request.requested_at;
            messages.extend(i.messages.iter().map(|m| (Some(id), at, m)));
            timers.extend(i.timers.iter().map(|t| (id, *t)));
        }
        insert_messages(tx, &messages).await?;
        insert_timers(tx, &timers).await?;

        for ((i, p), id) in chunk.iter().zip(plans).zip(ids) {
            let media_ids = insert_media(tx, id, &i.request.media).await?;
            if !media_ids.is_empty() {
                tx.execute(
                    "UPDATE requests SET media_ids = $1 WHERE id = $2",
                    vec![Param::Text(to_json(&media_ids)), Param::I64(id)],
                )
                .await?;
            }
            out.push((id, p.prepared, media_ids));
        }
    }
    Ok(out)
}

fn stored(id: i64, i: &Intake, p: Prepared, media_ids: Vec<i64>) -> ServiceRequest {
    let mut r = i.provisional();
    r.requested_at = round(r.requested_at);
    r.id = civic311_domain::request::RequestId::new(id, r.requested_at);
    r.status = p.status;
    r.status_notes = p.notes;
    r.media_ids = media_ids;
    r.updated_at = round(p.updated_at);
    r.closed_at = p.closed_at.map(round);
    r.expected_at = p.expected_at.map(round);
    r
}

/// Stores photos of a request; returns the ids of the public ones, which the request
/// lists (Open311 `media_url`s).
pub async fn insert_media(tx: &mut dyn SqlTx, id: i64, media: &[Media]) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(media.len());
    for m in media {
        let sql = "INSERT INTO media (request_id, content_type, bytes, public) VALUES ($1, $2, $3, $4) RETURNING id";
        let params = vec![
            Param::I64(id),
            Param::Text(m.content_type.clone()),
            Param::Bytes(m.bytes.clone()),
            Param::I64(i64::from(m.public)),
        ];
        let stored = tx.fetch_i64(sql, params).await?;
        if m.public {
            ids.push(stored);
        }
    }
    Ok(ids)
}

/// Adds messages to the outbox, due at once (or, held for a digest, at its release).
/// Each message is about a request, or (`None`) about none (a department's weekly report).
pub async fn insert_messages(tx: &mut dyn SqlTx, messages: &[(Option<i64>, Timestamp, &Message)]) -> StoreResult<()> {
    const WIDTH: usize = 10;
    for chunk in messages.chunks(rows_per_insert(WIDTH)) {
        let mut params = Vec::with_capacity(chunk.len() * WIDTH);
        for (id, at, m) in chunk {
            params.extend([
                Param::OptI64(*id),
                Param::Text(m.channel.clone()),
                Param::Text(m.recipient.clone()),
                Param::Text(m.kind.clone()),
                Param::Text(m.language.clone()),
                Param::Text(to_json(&m.vars)),
                Param::Text(crate::OutboxState::Pending.as_str().to_owned()),
                Param::I64(0),
                // A digest's message waits for its release time.
                Param::I64(to_micros(m.not_before.map_or(*at, |t| t.max(*at)))),
                Param::I64(to_micros(*at)),
            ]);
        }
        let sql = format!(
            "INSERT INTO outbox (request_id, channel, recipient, kind, language, vars, state, attempts, next_at, created_at) \
             VALUES {}",
            placeholders(chunk.len(), WIDTH)
        );
        tx.execute(&sql, params).await?;
    }
    Ok(())
}

/// Adds timers (the request's old ones must be gone).
pub async fn insert_timers(tx: &mut dyn SqlTx, timers: &[(i64, Timer)]) -> StoreResult<()> {
    for chunk in timers.chunks(rows_per_insert(3)) {
        let mut params = Vec::with_capacity(chunk.len() * 3);
        for (id, t) in chunk {
            params.extend([Param::I64(*id), Param::Text(t.kind.as_str().to_owned()), Param::I64(to_micros(t.due))]);
        }
        let sql = format!("INSERT INTO timers (request_id, kind, due_at) VALUES {}", placeholders(chunk.len(), 3));
        tx.execute(&sql, params).await?;
    }
    Ok(())
}

/// The timestamp as the store keeps it: whole microseconds.
pub fn round(t: Timestamp) -> Timestamp {
    civic311_domain::request::from_micros(to_micros(t))
}

#[cfg(test)]
mod tests {
    use super::numbers;

    #[test]
    fn new_requests_are_numbered_after_every_number_stored_or_kept() {
        assert_eq!(numbers(&[None, None], 7), [7, 8]);
        assert_eq!(numbers(&[None, Some(3), None], 7), [7, 3, 8], "a kept number below the next one");
        assert_eq!(numbers(&[None, Some(20), None], 7), [21, 20, 22], "after a kept number above it");
        assert_eq!(numbers(&[], 7), Vec::<i64>::new());
    }
}
