//! The staff API's handlers: extract, check the caller, one engine or store call, render.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use civic311_domain::duplicates::Probe;
use civic311_domain::geo::BoundaryIndex;
use civic311_domain::org::StaffUser;
use civic311_domain::request::{Priority, ServiceRequest, Status};
use civic311_domain::workflow::Action;
use civic311_store::{OutboxQuery, OutboxState, RequestQuery, Sort};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{caller, require_admin, require_supervisor};
use super::extract::{ApiPath, ApiQuery};
use super::{ApiError, view};
use crate::AppState;
use civic311_domain::policy::reads_outbox;

type ApiResult = Result<Json<Value>, ApiError>;

fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, field, detail)
}

fn list(v: &Option<String>) -> Vec<String> {
    v.as_deref()
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Filters of `GET /api/v1/requests`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    department: Option<String>,
    team: Option<String>,
    assignee: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    service_code: Option<String>,
    overdue: Option<bool>,
    area: Option<String>,
    q: Option<String>,
    created_after: Option<String>,
    created_before: Option<String>,
    updated_after: Option<String>,
    updated_before: Option<String>,
    sort: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn time(field: &str, v: &Option<String>) -> Result<Option<jiff::Timestamp>, ApiError> {
    v.as_deref()
        .map(|s| s.parse().map_err(|_| bad(field, format!("'{s}' is not a time like 2026-11-23T09:00:00Z"))))
        .transpose()
}

pub async fn list_requests(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult {
    caller(&state, &headers).await?;
    let city = state.city();
    let limit = p.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(bad("limit", "a page holds 1 to 500 requests"));
    }
    let mut q = RequestQuery { limit, ..RequestQuery::default() };
    q.departments = list(&p.department);
    q.teams = list(&p.team);
    q.assignees = list(&p.assignee);
    q.service_codes = list(&p.service_code);
    for s in list(&p.status) {
        q.statuses.push(Status::parse(&s).ok_or_else(|| bad("status", format!("unknown status '{s}'")))?);
    }
    for s in list(&p.priority) {
        q.priorities.push(Priority::parse(&s).ok_or_else(|| bad("priority", format!("unknown priority '{s}'")))?);
    }
    if p.overdue == Some(true) {
        q.overdue_at = Some(state.now());
    }
    q.text = p.q.filter(|t| !t.trim().is_empty());
    q.requested_from = time("created_after", &p.created_after)?;
    q.requested_to = time("created_before", &p.created_before)?;
    q.updated_from = time("updated_after", &p.updated_after)?;
    q.updated_to = time("updated_before", &p.updated_before)?;
    q.areas = areas(&city.boundaries, &list(&p.area))?;
    if let Some(s) = &p.sort {
        let names = Sort::ALL.map(Sort::as_str).join(", ");
        q.sort = Sort::parse(s).ok_or_else(|| bad("sort", format!("unknown sort '{s}'; one of {names}")))?;
    }
    if let Some(c) = &p.cursor {
        // A cursor continues the listing it came from, in its own order.
        let (order, key, id) = cursor(c).ok_or_else(|| bad("cursor", "not a next_cursor from a previous page"))?;
        if p.sort.is_some() && order != q.sort {
            let detail = format!("this cursor continues a listing sorted by {}; leave sort out", order.as_str());
            return Err(ApiError::new(StatusCode::CONFLICT, "cursor", detail));
        }
        q.sort = order;
        q.after = Some((key, id));
    }
    let page = state.store.list_requests(&q).await?;
    let next = (page.len() == q.limit as usize)
        .then(|| page.last().map(|r| format!("{}.{}.{}", q.sort.as_str(), q.sort.key(r), r.id.seq)))
        .flatten();
    Ok(Json(json!({ "requests": page.iter().map(view::request).collect::<Vec<_>>(), "next_cursor": next })))
}

/// The order, sort key and id of a `sort.key.id` cursor.
fn cursor(c: &str) -> Option<(Sort, i64, i64)> {
    let mut parts = c.split('.');
    let (order, key, id) = (Sort::parse(parts.next()?)?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    parts.next().is_none().then_some((order, key, id))
}

/// `layer:feature` filters grouped by layer, each checked against the city's boundaries.
fn areas(boundaries: &BoundaryIndex, items: &[String]) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let mut by_layer: Vec<(String, Vec<String>)> = Vec::new();
    for item in items {
        let (layer, feature) =
            item.split_once(':').ok_or_else(|| bad("area", format!("'{item}' is not layer:feature, like wards:W3")))?;
        if boundaries.feature_name(layer, feature).is_none() {
            let detail = format!("the city has no {layer} feature '{feature}'");
            return Err(ApiError::new(StatusCode::NOT_FOUND, "area", detail));
        }
        match by_layer.iter_mut().find(|(l, _)| l == layer) {
            Some((_, features)) => features.push(feature.to_owned()),
            None => by_layer.push((layer.to_owned(), vec![feature.to_owned()])),
        }
    }
    Ok(by_layer)
}

/// The request numbered `id` (matched whole, its year included), or a 404.
pub(super) async fn load(state: &AppState, id: &str) -> Result<(i64, ServiceRequest), ApiError> {
    let r = state
        .request_named(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "id", format!("no request {id}")))?;
    Ok((r.id.seq, r))
}

pub async fn get_request(State(state): State<AppState>, headers: HeaderMap, ApiPath(id): ApiPath<String>) -> ApiResult {
    let user = caller(&state, &headers).await?;
    let (seq, r) = load(&state, &id).await?;
    let events = state.store.events(seq).await?;
    let followers = state.store.followers(seq).await?.len();
    let mut body = view::request(&r);
    body["events"] = events.iter().map(view::event).collect();
    body["followers"] = json!(followers);
    // Who was sent what is for supervisors and administrators.
    if reads_outbox(&user) {
        let messages =
            state.store.outbox(&OutboxQuery { request: Some(seq), limit: 200, ..OutboxQuery::default() }).await?;
        body["notifications"] = messages.iter().map(view::message).collect();
    }
    body["photos"] = state.store.photos(seq).await?.iter().map(super::photos::photo).collect();
    Ok(Json(body))
}

pub async fn list_duplicates(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    caller(&state, &headers).await?;
    let (seq, r) = load(&state, &id).await?;
    let city = state.city();
    let found = match r.location.point {
        Some(point) => {
            let probe = Probe { service_code: &r.service_code, point, description: &r.description, seq: Some(seq) };
            civic311_app::duplicates::candidates(&state, &city, &probe, false).await?
        }
        // Without a point there is no "nearby".
        None => Vec::new(),
    };
    let items: Vec<Value> = found
        .iter()
        .map(|f| {
            let mut v = view::request(&f.request);
            v["distance_m"] = json!(f.distance_m.round());
            v["score"] = json!((f.score * 100.0).round() / 100.0);
            v
        })
        .collect();
    Ok(Json(json!({ "duplicates": items })))
}

/// The actions beside whose public text a separate `internal_note` may be sent.
pub(super) const NOTED_ACTIONS: [&str; 8] =
    ["acknowledge", "start", "hold", "wait_on_resident", "resume", "resolve", "close", "reopen"];

pub async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> ApiResult {
    let user = caller(&state, &headers).await?;
    let (seq, _) = load(&state, &id).await?;
    let Json(mut body) = body.map_err(|e| bad("action", e.body_text()))?;
    let internal_note = match body.as_object_mut().and_then(|o| o.remove("internal_note")) {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if NOTED_ACTIONS.contains(&body["action"].as_str().unwrap_or("")) => Some(n),
        Some(Value::String(_)) => {
            return Err(bad(
                "internal_note",
                format!("one of {} may carry an internal note", NOTED_ACTIONS.join(", ")),
            ));
        }
        Some(_) => return Err(bad("internal_note", "a string")),
    };
    let action: Action = serde_json::from_value(body).map_err(|e| bad("action", e.to_string()))?;
    let stored = apply(&state, &user, seq, &action, internal_note.as_deref()).await?;
    Ok(Json(view::request(&stored)))
}

/// Applies `action` (with an internal note, if any) to request `seq` as `user`; the
/// request as stored.
pub(super) async fn apply(
    state: &AppState,
    user: &StaffUser,
    seq: i64,
    action: &Action,
    internal_note: Option<&str>,
) -> Result<ServiceRequest, ApiError> {
    Ok(civic311_app::engine::act_as_staff(state, user, seq, action, internal_note).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    state: Option<String>,
    channel: Option<String>,
    limit: Option<i64>,
}

pub async fn list_outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<OutboxParams>,
) -> ApiResult {
    require_supervisor(&caller(&state, &headers).await?)?;
    let outbox_state = match p.state.as_deref().map(OutboxState::parse) {
        None => None,
        Some(Some(s)) => Some(s),
        Some(None) => {
            let names = OutboxState::ALL.map(OutboxState::as_str).join(", ");
            return Err(bad("state", format!("one of {names}")));
        }
    };
    if let Some(c) = &p.channel
        && !["email", "sms", "webhook"].contains(&c.as_str())
    {
        return Err(bad("channel", "one of email, sms, webhook"));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(bad("limit", "1 to 1000 messages"));
    }
    let items =
        state.store.outbox(&OutboxQuery { state: outbox_state, channel: p.channel, request: None, limit }).await?;
    Ok(Json(json!({ "messages": items.iter().map(view::message).collect::<Vec<_>>() })))
}

pub async fn retry_outbox(State(state): State<AppState>, headers: HeaderMap, ApiPath(id): ApiPath<i64>) -> ApiResult {
    require_admin(&caller(&state, &headers).await?)?;
    if !state.store.retry_message(id, state.now()).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "id", format!("no dead letter {id}")));
    }
    Ok(Json(json!({ "id": id, "state": "pending" })))
}
