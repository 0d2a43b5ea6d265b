//! FixMyStreet's update feed, `GET /open311/v2/servicerequestupdates.{fmt}`: the public
//! changes to requests in a time window, oldest first, so FixMyStreet and
//! open311-adapter installations can follow civic311.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use civic311_domain::request::{Event, EventKind, ServiceRequest, Status};
use civic311_store::RequestQuery;
use jiff::SignedDuration;

use super::doc::{Document, Node};
use super::render::{datetime, public_text, respond};
use super::requests::query::{MAX_SPAN, datetime as date_param};
use super::{Format, Open311Error};
use crate::AppState;

/// Most updates one call returns; a busier window must be asked for in smaller pieces.
pub const MAX_UPDATES: usize = 10_000;

/// The default window when `start_date` is not given: the last day.
const DEFAULT_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// FixMyStreet's extended status for one of ours.
pub fn fms_status(s: Status) -> &'static str {
    match s {
        Status::New | Status::Open => "open",
        Status::InProgress => "in_progress",
        Status::OnHold => "action_scheduled",
        Status::WaitingOnResident => "investigating",
        Status::Resolved => "fixed",
        Status::Closed => "closed",
        Status::Duplicate => "duplicate",
    }
}

/// The status a public event leaves the request in: the new status of a change, the
/// status a note was made in (the current one for notes that did not record it).
fn status_after(e: &Event, current: Status) -> Status {
    let status = |k: &str| e.data.get(k).and_then(|v| v.as_str()).and_then(Status::parse);
    status("to").or_else(|| status("status")).unwrap_or(current)
}

/// Answers the feed for `start_date`..`end_date` (W3C date-times; the last day by
/// default, at most 90 days).
pub async fn feed(state: &AppState, params: &[(String, String)], format: Format) -> Result<Response, Open311Error> {
    let mut errors = Vec::new();
    let start = date_param(params, "start_date", &mut errors);
    let end = date_param(params, "end_date", &mut errors);
    if !errors.is_empty() {
        return Err(Open311Error::many(StatusCode::BAD_REQUEST, format, errors));
    }
    let end = end.unwrap_or_else(|| state.now());
    let start = start.unwrap_or_else(|| end - DEFAULT_WINDOW);
    if start > end {
        return Err(Open311Error::bad_request(format, "start_date must not be after end_date"));
    }
    if end.duration_since(start) > MAX_SPAN {
        return Err(Open311Error::bad_request(format, "start_date to end_date may span at most 90 days"));
    }
    let kinds = [EventKind::StatusChanged, EventKind::Note];
    let limit = i64::try_from(MAX_UPDATES + 1).unwrap_or(i64::MAX);
    let events =
        state.store.events_between(start, end, &kinds, limit).await.map_err(|e| Open311Error::store(format, e))?;
    if events.len() > MAX_UPDATES {
        return Err(Open311Error::bad_request(
            format,
            format!("more than {MAX_UPDATES} updates between start_date and end_date: ask for a shorter window"),
        ));
    }
    let events: Vec<_> = events.into_iter().filter(|(_, e)| e.is_public()).collect();
    let city = state.city();
    let mut ids: Vec<i64> = events.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let requests: HashMap<i64, ServiceRequest> = if ids.is_empty() {
        HashMap::new()
    } else {
        let query = RequestQuery {
            exclude_services: city.internal_codes(),
            limit: u32::try_from(ids.len()).unwrap_or(u32::MAX),
            ids,
            ..RequestQuery::default()
        };
        let found = state.store.list_requests(&query).await.map_err(|e| Open311Error::store(format, e))?;
        found.into_iter().map(|r| (r.id.seq, r)).collect()
    };
    let items = events
        .iter()
        .filter_map(|(seq, e)| {
            // Requests of internal services are never public.
            let r = requests.get(seq)?;
            let status = status_after(e, r.status);
            Some(Node::Obj(vec![
                ("update_id", Node::text(e.id.to_string())),
                ("service_request_id", Node::text(r.id.to_string())),
                ("status", Node::text(fms_status(status))),
                ("external_status_code", Node::text(status.as_str())),
                ("description", Node::text(public_text(e))),
                ("media_url", Node::text("")),
                ("updated_datetime", Node::text(datetime(e.at, &city.tz))),
            ]))
        })
        .collect();
    let doc = Document { root: "service_request_updates", body: Node::list("request_update", items) };
    Ok(respond(StatusCode::OK, format, &doc))
}
