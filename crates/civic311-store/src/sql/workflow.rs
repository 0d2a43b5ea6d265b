//! Units of work of the workflow: applying a decided change (state, events, outbox,
//! timers, followers in one transaction) and claiming due timers and messages.

use civic311_domain::request::{ServiceRequest, to_micros};
use jiff::Timestamp;

use super::writes::{EventIn, insert_events, insert_media, insert_messages, insert_timers, seal, to_json};
use super::{OutboxRow, Param, SqlTx, TimerRow};
use crate::error::{StoreError, StoreResult};
use crate::{Delivery, OutboxState, RequestUpdate};

/// Applies one change. Fails with `Conflict` when the request changed since it was
/// read, or when the timer the change consumes was already consumed.
pub async fn apply_update(tx: &mut dyn SqlTx, u: RequestUpdate) -> StoreResult<ServiceRequest> {
    let mut r = u.request;
    let id = r.id.seq;
    let a = &r.assignment;
    let changed = tx
        .execute(
            "UPDATE requests SET status = $1, status_notes = $2, department = $3, team = $4, assignee = $5, \
             priority = $6, tags = $7, updated_at = $8, closed_at = $9, expected_at = $10, workflow = $11, \
             version = version + 1 WHERE id = $12 AND version = $13",
            vec![
                Param::Text(r.status.as_str().to_owned()),
                Param::OptText(r.status_notes.clone()),
                Param::Text(a.department.clone()),
                Param::OptText(a.team.clone()),
                Param::OptText(a.assignee.clone()),
                Param::Text(a.priority.as_str().to_owned()),
                Param::Text(to_json(&a.tags)),
                Param::I64(to_micros(r.updated_at)),
                Param::OptI64(r.closed_at.map(to_micros)),
                Param::OptI64(r.expected_at.map(to_micros)),
                Param::Text(to_json(&r.workflow)),
                Param::I64(id),
                Param::I64(r.version),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::Conflict(format!("request {} changed meanwhile; try again", r.id)));
    }
    r.version += 1;
    if let Some((kind, due)) = u.fired {
        let gone = tx
            .execute(
                "DELETE FROM timers WHERE request_id = $1 AND kind = $2 AND due_at = $3",
                vec![Param::I64(id), Param::Text(kind.as_str().to_owned()), Param::I64(to_micros(due))],
            )
            .await?;
        if gone == 0 {
            return Err(StoreError::Conflict(format!("the {} timer of {} was already handled", kind.as_str(), r.id)));
        }
    }
    tx.execute("DELETE FROM timers WHERE request_id = $1", vec![Param::I64(id)]).await?;
    let timers: Vec<_> = u.timers.iter().map(|t| (id, *t)).collect();
    insert_timers(tx, &timers).await?;

    if !u.media.is_empty() {
        let ids = insert_media(tx, id, &u.media).await?;
        r.media_ids.extend(ids);
        tx.execute(
            "UPDATE requests SET media_ids = $1 WHERE id = $2",
            vec![Param::Text(to_json(&r.media_ids)), Param::I64(id)],
        )
        .await?;
    }

    let prev = tx
        .fetch_bodies(
            "SELECT hash AS body FROM events WHERE request_id = $1 ORDER BY id DESC LIMIT 1",
            vec![Param::I64(id)],
        )
        .await?
        .pop()
        .map(|b| b.body)
        .unwrap_or_default();
    let events: Vec<EventIn> =
        seal(id, &prev, u.events.into_iter().map(|e| (r.updated_at, e.kind, e.actor, e.data)).collect());
    insert_events(tx, events).await?;
    super::rollup::queue(tx, &[id]).await?;
    super::changes::mark(tx, &[id]).await?;

    if let Some(from) = u.followers_from {
        tx.execute(
            "INSERT INTO followers (request_id, address, channel, language, confirmed_at) \
             SELECT $1, address, channel, language, confirmed_at FROM followers \
             WHERE request_id = $2 AND confirmed_at IS NOT NULL \
             ON CONFLICT (request_id, address) DO NOTHING",
            vec![Param::I64(id), Param::I64(from)],
        )
        .await?;
    }
    for f in &u.follow {
        tx.execute(
            "INSERT INTO followers (request_id, address, channel, language, confirmed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (request_id, address) DO UPDATE SET channel = excluded.channel, \
             language = excluded.language, confirmed_at = COALESCE(followers.confirmed_at, excluded.confirmed_at)",
            vec![
                Param::I64(id),
                Param::Text(f.address.clone()),
                Param::Text(to_json(&f.channel).trim_matches('"').to_owned()),
                Param::Text(f.language.clone()),
                Param::I64(to_micros(r.updated_at)),
            ],
        )
        .await?;
    }
    for f in &u.unfollow {
        tx.execute(
            "DELETE FROM followers WHERE request_id = $1 AND address = $2",
            vec![Param::I64(id), Param::Text(f.clone())],
        )
        .await?;
    }
    let at = r.updated_at;
    let messages: Vec<_> = u.messages.iter().map(|m| (Some(id), at, m)).collect();
    insert_messages(tx, &messages).await?;
    Ok(r)
}

/// Leases up to `limit` due timers until `lease_until`.
pub async fn claim_timers(
    tx: &mut dyn SqlTx,
    skip_locked: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
) -> StoreResult<Vec<TimerRow>> {
    let sql = format!(
        "UPDATE timers SET lease_until = $1 WHERE (request_id, kind) IN (\
           SELECT request_id, kind FROM timers WHERE due_at <= $2 AND (lease_until IS NULL OR lease_until < $2) \
           ORDER BY due_at LIMIT $3{skip_locked}) \
         RETURNING request_id, kind, due_at"
    );
    tx.fetch_timers(&sql, vec![Param::I64(to_micros(lease_until)), Param::I64(to_micros(now)), Param::I64(limit)]).await
}

/// Every outbox column, in [`OutboxRow`] order.
pub const OUTBOX_COLUMNS: &str = "id, request_id, channel, recipient, kind, language, vars, state, attempts, next_at, \
     last_error, created_at, sent_at, subject, body";

/// Leases up to `limit` pending messages that are due.
pub async fn claim_messages(
    tx: &mut dyn SqlTx,
    skip_locked: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
) -> StoreResult<Vec<OutboxRow>> {
    let sql = format!(
        "UPDATE outbox SET lease_until = $1 WHERE id IN (\
           SELECT id FROM outbox WHERE state = $4 AND next_at <= $2 \
           AND (lease_until IS NULL OR lease_until < $2) ORDER BY next_at, recipient, id LIMIT $3{skip_locked}) \
         RETURNING {OUTBOX_COLUMNS}"
    );
    let pending = Param::Text(OutboxState::Pending.as_str().to_owned());
    let params = vec![Param::I64(to_micros(lease_until)), Param::I64(to_micros(now)), Param::I64(limit), pending];
    tx.fetch_outbox(&sql, params).await
}

/// Records how a delivery went.
pub async fn finish_message(tx: &mut dyn SqlTx, id: i64, outcome: Delivery, now: Timestamp) -> StoreResult<()> {
    let (sql, params) = match outcome {
        Delivery::Sent { subject, body } => (
            "UPDATE outbox SET state = $5, attempts = attempts + 1, sent_at = $1, subject = $2, body = $3, \
             lease_until = NULL, last_error = NULL WHERE id = $4",
            vec![
                Param::I64(to_micros(now)),
                Param::Text(subject),
                Param::Text(body),
                Param::I64(id),
                Param::Text(OutboxState::Sent.as_str().to_owned()),
            ],
        ),
        Delivery::Retry { at, error } => (
            "UPDATE outbox SET attempts = attempts + 1, next_at = $1, last_error = $2, lease_until = NULL WHERE id = $3",
            vec![Param::I64(to_micros(at)), Param::Text(error), Param::I64(id)],
        ),
        Delivery::Dead { error } => (
            "UPDATE outbox SET state = $3, attempts = attempts + 1, last_error = $1, lease_until = NULL WHERE id = $2",
            vec![Param::Text(error), Param::I64(id), Param::Text(OutboxState::Dead.as_str().to_owned())],
        ),
    };
    tx.execute(sql, params).await?;
    Ok(())
}
