//! Units of work that change requests: the statements run inside one transaction.

use std::collections::BTreeMap;

use civic311_domain::request::{ServiceRequest, Status, to_micros};
use jiff::Timestamp;
use serde_json::json;

use super::{IdTokenRow, Param, SqlTx};
use crate::Intake;
use crate::error::{StoreError, StoreResult};

/// Every column of `requests`, in [`RequestRow`](super::RequestRow) order.
pub const REQUEST_COLUMNS: &str = "id, service_code, description, lat, lon, address, address_id, zipcode, answers, channel, \
     contact, status, status_notes, department, team, assignee, priority, tags, areas, media_url, media_ids, token, \
     requested_at, updated_at, closed_at, expected_at";

/// The columns an insert writes (all but `id`).
const INSERT_COLUMNS: &str = "service_code, description, lat, lon, address, address_id, zipcode, answers, channel, \
     contact, status, status_notes, department, team, assignee, priority, tags, areas, media_url, media_ids, token, \
     requested_at, updated_at, closed_at, expected_at";
const INSERT_WIDTH: usize = 25;

/// Most parameters in one multi-row INSERT. Binding costs grow with the square of the
/// parameter count in sqlx's SQLite driver (each bind looks its placeholder up by
/// name, a linear scan), so statements stay small: about 1,000 parameters.
const MAX_PARAMS: usize = 1_000;

/// Rows per multi-row INSERT of a table `width` columns wide.
fn rows_per_insert(width: usize) -> usize {
    (MAX_PARAMS / width).max(1)
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
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

struct Prepared {
    status: Status,
    notes: Option<String>,
    updated_at: Timestamp,
    closed_at: Option<Timestamp>,
}

fn prepare(i: &Intake) -> Prepared {
    match &i.closed {
        Some((at, note)) => {
            Prepared { status: Status::Closed, notes: Some(note.clone()), updated_at: *at, closed_at: Some(*at) }
        }
        None => Prepared { status: Status::Open, notes: None, updated_at: i.request.requested_at, closed_at: None },
    }
}

fn request_params(i: &Intake, p: &Prepared, out: &mut Vec<Param>) {
    let r = &i.request;
    let a = &i.decision.assignment;
    let point = r.location.point;
    out.extend([
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
        Param::OptI64(None),
    ]);
}

struct EventIn {
    request: i64,
    at: Timestamp,
    kind: &'static str,
    actor: String,
    data: serde_json::Value,
}

fn events_of(id: i64, i: &Intake, p: &Prepared) -> Vec<EventIn> {
    let r = &i.request;
    let mut out = vec![
        EventIn {
            request: id,
            at: r.requested_at,
            kind: "created",
            actor: "resident".to_owned(),
            data: json!({ "service_code": r.service_code, "channel": r.channel.as_str(), "areas": r.areas }),
        },
        EventIn {
            request: id,
            at: r.requested_at,
            kind: "routed",
            actor: "rules".to_owned(),
            data: json!({ "assignment": i.decision.assignment, "trace": i.decision.trace }),
        },
    ];
    if let Some(closed) = p.closed_at {
        out.push(EventIn {
            request: id,
            at: closed,
            kind: "status_changed",
            actor: "system".to_owned(),
            data: json!({ "from": "open", "to": p.status.as_str(), "note": p.notes }),
        });
    }
    out
}

async fn insert_events(tx: &mut dyn SqlTx, events: Vec<EventIn>) -> StoreResult<()> {
    for chunk in events.chunks(rows_per_insert(5)) {
        let mut params = Vec::with_capacity(chunk.len() * 5);
        for e in chunk {
            params.extend([
                Param::I64(e.request),
                Param::I64(to_micros(e.at)),
                Param::Text(e.kind.to_owned()),
                Param::Text(e.actor.clone()),
                Param::Text(e.data.to_string()),
            ]);
        }
        let sql =
            format!("INSERT INTO events (request_id, at, kind, actor, data) VALUES {}", placeholders(chunk.len(), 5));
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

/// Inserts requests with their boundary areas, events and media; returns them as stored.
pub async fn insert_intakes(tx: &mut dyn SqlTx, intakes: &[Intake]) -> StoreResult<Vec<ServiceRequest>> {
    let mut out = Vec::with_capacity(intakes.len());
    for chunk in intakes.chunks(rows_per_insert(INSERT_WIDTH)) {
        let prepared: Vec<Prepared> = chunk.iter().map(prepare).collect();
        let mut params = Vec::with_capacity(chunk.len() * INSERT_WIDTH);
        for (i, p) in chunk.iter().zip(&prepared) {
            request_params(i, p, &mut params);
        }
        let sql = format!(
            "INSERT INTO requests ({INSERT_COLUMNS}) VALUES {} RETURNING id, token",
            placeholders(chunk.len(), INSERT_WIDTH)
        );
        let ids: BTreeMap<String, i64> =
            tx.insert_returning(&sql, params).await?.into_iter().map(|IdTokenRow { id, token }| (token, id)).collect();
        let id_of = |i: &Intake| {
            ids.get(&i.token)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("insert returned no id for token {}", i.token)))
        };

        let mut areas = Vec::new();
        let mut events = Vec::new();
        for (i, p) in chunk.iter().zip(&prepared) {
            let id = id_of(i)?;
            areas.extend(i.request.areas.iter().map(|(l, f)| (id, l.as_str(), f.as_str())));
            events.extend(events_of(id, i, p));
        }
        if !areas.is_empty() {
            insert_areas(tx, areas).await?;
        }
        insert_events(tx, events).await?;

        for (i, p) in chunk.iter().zip(prepared) {
            let id = id_of(i)?;
            let mut media_ids = Vec::new();
            for m in &i.request.media {
                let sql = "INSERT INTO media (request_id, content_type, bytes) VALUES ($1, $2, $3) RETURNING id";
                let params = vec![Param::I64(id), Param::Text(m.content_type.clone()), Param::Bytes(m.bytes.clone())];
                media_ids.push(tx.fetch_i64(sql, params).await?);
            }
            if !media_ids.is_empty() {
                tx.execute(
                    "UPDATE requests SET media_ids = $1 WHERE id = $2",
                    vec![Param::Text(to_json(&media_ids)), Param::I64(id)],
                )
                .await?;
            }
            out.push(stored(id, i, p, media_ids));
        }
    }
    Ok(out)
}

fn stored(id: i64, i: &Intake, p: Prepared, media_ids: Vec<i64>) -> ServiceRequest {
    let r = &i.request;
    let requested_at = round(r.requested_at);
    ServiceRequest {
        id: civic311_domain::request::RequestId::new(id, requested_at),
        service_code: r.service_code.clone(),
        description: r.description.as_str().to_owned(),
        location: r.location.clone(),
        answers: r.answers.clone(),
        channel: r.channel,
        contact: r.contact.clone(),
        status: p.status,
        status_notes: p.notes,
        assignment: i.decision.assignment.clone(),
        areas: r.areas.clone(),
        media_url: r.media_url.clone(),
        media_ids,
        token: i.token.clone(),
        requested_at,
        updated_at: round(p.updated_at),
        closed_at: p.closed_at.map(round),
        expected_at: None,
    }
}

/// The timestamp as the store keeps it: whole microseconds.
fn round(t: Timestamp) -> Timestamp {
    civic311_domain::request::from_micros(to_micros(t))
}
