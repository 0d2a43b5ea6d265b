//! Requests, events and outbox messages as the staff API shows them.

use civic311_domain::request::{Event, ServiceRequest};
use civic311_store::OutboxItem;
use serde_json::{Value, json};

/// A request with everything staff see (contact included).
pub fn request(r: &ServiceRequest) -> Value {
    let sla = r.workflow.sla.as_ref();
    json!({
        "id": r.id.to_string(),
        "service_code": r.service_code,
        "description": r.description,
        "status": r.status.as_str(),
        "status_notes": r.status_notes,
        "department": r.assignment.department,
        "team": r.assignment.team,
        "assignee": r.assignment.assignee,
        "priority": r.assignment.priority.as_str(),
        "tags": r.assignment.tags,
        "channel": r.channel.as_str(),
        "lat": r.location.point.map(|p| p.lat),
        "long": r.location.point.map(|p| p.lon),
        "address": r.location.address,
        "areas": r.areas,
        "answers": r.answers,
        "contact": r.contact,
        "media_ids": r.media_ids,
        "requested_at": r.requested_at,
        "updated_at": r.updated_at,
        "closed_at": r.closed_at,
        "sla": sla.map(|c| json!({
            "policy": c.policy,
            "calendar": c.calendar,
            "response_due": c.response_due,
            "responded_at": c.responded_at,
            "resolution_due": c.resolution_due,
            "paused_at": c.paused_at,
            "running": c.running(),
        })),
        "escalated": r.workflow.escalated,
        "escalation_level": r.workflow.escalation_level,
        "involved": r.workflow.involved,
        "merged_into": r.workflow.merged_into,
        "rating": r.workflow.rating,
        "version": r.version,
    })
}

pub fn event(e: &Event) -> Value {
    json!({ "id": e.id, "at": e.at, "kind": e.kind, "actor": e.actor, "data": e.data })
}

pub fn message(m: &OutboxItem) -> Value {
    json!({
        "id": m.id,
        "request_id": m.request_id,
        "channel": m.message.channel,
        "recipient": m.message.recipient,
        "kind": m.message.kind,
        "language": m.message.language,
        "state": m.state,
        "attempts": m.attempts,
        "next_attempt_at": m.next_at,
        "last_error": m.last_error,
        "created_at": m.created_at,
        "sent_at": m.sent_at,
        "subject": m.subject,
        "body": m.body,
    })
}
