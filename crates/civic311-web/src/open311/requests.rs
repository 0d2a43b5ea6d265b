//! Service requests: `GET /requests.{fmt}` with filters, `GET /requests/{id}.{fmt}`,
//! and `POST /requests.{fmt}` (form-encoded or multipart with photos).

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use std::collections::HashMap;

use civic311_domain::duplicates::Probe;
use civic311_domain::request::{Channel, Event, Media, ServiceRequest};

use super::doc::{Document, Node};
use super::render::{RequestView, request_node, respond};
use super::{Format, Open311Error, split_format};
use crate::AppState;
use crate::form::read_urlencoded;
use crate::media::read_parts;
use crate::throttle::ClientAddr;
use civic311_app::intake::{RawRequest, submit};
use civic311_app::photo::{PhotoProblem, Upload, clean_photos};
use civic311_domain::request::PUBLIC_EVENT_KINDS;

pub(super) mod query;

pub use query::parse_list_query;

/// `http://host` for absolute links: the configured public URL or the Host header.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// An unknown `jurisdiction_id` is a 404; absent or empty is this city.
pub fn check_jurisdiction(state: &AppState, format: Format, given: Option<&String>) -> Result<(), Open311Error> {
    match given.map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(j) if j != state.city().settings.jurisdiction_id => {
            Err(Open311Error::not_found(format, format!("jurisdiction_id {j} not found")))
        }
        _ => Ok(()),
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a String> {
    params.iter().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v)
}

/// `GET /open311/v2/services.{fmt}` and `GET /open311/v2/requests.{fmt}`.
pub async fn list_or_services(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let (name, format) = split_format(&file)?;
    check_jurisdiction(&state, format, param(&params, "jurisdiction_id"))?;
    match name {
        "services" => Ok(super::services::list(&state, format)),
        "servicerequestupdates" => super::updates::feed(&state, &params, format).await,
        "duplicates" => super::duplicates::check(&state, &headers, &params, format).await,
        "requests" => {
            let city = state.city();
            let (query, extensions) = parse_list_query(&params, &city, state.now(), format)?;
            let mut found = state.store.list_requests(&query).await.map_err(|e| Open311Error::store(format, e))?;
            // A number is matched whole: 2025-000042 is not 2026's request 42.
            let years = query::years_asked(&params);
            found.retain(|r| years.get(&r.id.seq).is_none_or(|y| y.is_none_or(|y| y == r.id.year)));
            render_requests(&state, &headers, format, &found, extensions).await
        }
        _ => Err(Open311Error::not_found(format, format!("no resource {file}"))),
    }
}

async fn render_requests(
    state: &AppState,
    headers: &HeaderMap,
    format: Format,
    found: &[ServiceRequest],
    extensions: bool,
) -> Result<Response, Open311Error> {
    let city = state.city();
    let base = base_url(state, headers);
    let view = RequestView { city: &city, base_url: &base, extensions, now: state.now() };
    // With extensions, one query fetches the public history of the whole page.
    let events = if extensions {
        let ids: Vec<i64> = found.iter().map(|r| r.id.seq).collect();
        state.store.events_of(&ids, &PUBLIC_EVENT_KINDS).await.map_err(|e| Open311Error::store(format, e))?
    } else {
        Vec::new()
    };
    let mut notes: HashMap<i64, Vec<&Event>> = HashMap::new();
    for (id, e) in events.iter().filter(|(_, e)| e.is_public()) {
        notes.entry(*id).or_default().push(e);
    }
    let items = found.iter().map(|r| request_node(r, &view, notes.get(&r.id.seq).map_or(&[], Vec::as_slice))).collect();
    Ok(respond(StatusCode::OK, format, &Document { root: "service_requests", body: Node::list("request", items) }))
}

/// `GET /open311/v2/requests/{id}.{fmt}`: a one-element list.
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let (id, format) = split_format(&file)?;
    check_jurisdiction(&state, format, param(&params, "jurisdiction_id"))?;
    let not_found = || Open311Error::not_found(format, format!("service_request_id {id} not found"));
    let found = state.request_named(id).await.map_err(|e| Open311Error::store(format, e))?.ok_or_else(not_found)?;
    let city = state.city();
    if !city.service(&found.service_code).is_some_and(|s| s.is_public()) {
        return Err(not_found());
    }
    let extensions = param(&params, "extensions").is_some_and(|v| v == "true");
    render_requests(&state, &headers, format, &[found], extensions).await
}

/// Refuses, before its body is read, a POST from a client address that has sent too
/// many without a valid API key lately (429 with `Retry-After`).
pub(super) fn not_shut_out(state: &AppState, format: Format, client: &ClientAddr) -> Result<(), Open311Error> {
    state.throttles.bad_keys.check(&client.key(), crate::throttle::BAD_KEYS, state.now()).map_err(|r| {
        Open311Error::too_many(format, r.retry_after, "too many requests from this address without a valid api_key")
    })
}

/// Checks an Open311 API key and takes one unit of its budget: 403 for a missing or
/// unknown key (counted against the client's address), 429 with `Retry-After` when its
/// budget for the minute is spent.
pub(super) fn admit(
    state: &AppState,
    format: Format,
    client: &ClientAddr,
    key: Option<&str>,
) -> Result<(), Open311Error> {
    let city = state.city();
    let Some(key) = key.filter(|k| city.api_key_valid(k)) else {
        // Taking from the address's budget of failures; when it is spent, the next
        // POSTs are refused unread (see `not_shut_out`).
        let _spent = state.throttles.bad_keys.take(&client.key(), crate::throttle::BAD_KEYS, state.now());
        return Err(match key {
            None => Open311Error::forbidden(format, "api_key is required to post requests"),
            Some(_) => Open311Error::forbidden(format, "api_key is not valid"),
        });
    };
    match city.api_key_per_minute(key) {
        Some(per_minute) => state
            .throttles
            .open311
            .take(key, crate::throttle::Budget { burst: per_minute, per_minute }, state.now())
            .map_err(|r| {
                let why = "this api_key has used its budget of requests for the minute \
                           (ask the city for a larger one if the app needs it)";
                Open311Error::too_many(format, r.retry_after, why)
            }),
        None => Ok(()),
    }
}

/// `POST /open311/v2/requests.{fmt}`. The API key is checked before any photo is
/// decoded — before the body is read at all when it comes in the address
/// (`?api_key=`) — so nobody without a key can make the server work.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddr,
    Path(file): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    req: Request,
) -> Result<Response, Open311Error> {
    let (name, format) = split_format(&file)?;
    if name != "requests" {
        return Err(Open311Error::not_found(format, format!("no resource {file} accepts POST")));
    }
    // A key in the address is checked before anything else; a valid one is never held
    // back by what others behind the same address sent.
    let key_in_address = param(&query, "api_key").cloned();
    match &key_in_address {
        Some(key) => admit(&state, format, &client, Some(key))?,
        None => not_shut_out(&state, format, &client)?,
    }
    let (fields, uploads) = read_body(req, format).await?;
    check_jurisdiction(&state, format, param(&fields, "jurisdiction_id"))?;
    if key_in_address.is_none() {
        admit(&state, format, &client, param(&fields, "api_key").map(String::as_str))?;
    }
    let media = clean_photos(&state.codecs.photos, uploads).await.map_err(|p| photo_error(format, &p))?;
    let raw = raw_request(&fields, media);
    let stored = submit(&state, raw, Channel::Mobile).await.map_err(|e| Open311Error::app(format, e))?;
    let city = state.city();
    let service = city.service(&stored.service_code).cloned();

    let mut item = Vec::new();
    match service.as_ref().map(|s| s.service_type) {
        Some(civic311_domain::service::ServiceType::Batch) => item.push(("token", Node::text(&stored.token))),
        Some(civic311_domain::service::ServiceType::Blackbox) => {}
        _ => item.push(("service_request_id", Node::text(stored.id.to_string()))),
    }
    item.push(("service_notice", Node::opt(service.map(|s| s.service_notice).filter(|n| !n.is_empty()))));
    item.push(("account_id", Node::opt(stored.contact.account_id.clone())));
    // Extension: the requests this one probably repeats, so an app can offer to follow one.
    if param(&fields, "extensions").is_some_and(|v| v == "true")
        && let Some(point) = stored.location.point
    {
        let probe = Probe {
            service_code: &stored.service_code,
            point,
            description: &stored.description,
            seq: Some(stored.id.seq),
        };
        // The request is committed: a failed lookup must not turn the 201 into an error.
        let found = civic311_app::duplicates::candidates(&state, &city, &probe, true).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "duplicate lookup after intake failed");
            Vec::new()
        });
        let base = base_url(&state, &headers);
        let view = RequestView { city: &city, base_url: &base, extensions: false, now: state.now() };
        item.push(("duplicates", Node::list("request", super::duplicates::nodes(&found, &view))));
    }
    let doc = Document { root: "service_requests", body: Node::list("request", vec![Node::Obj(item)]) };
    Ok(respond(StatusCode::CREATED, format, &doc))
}

/// A request as submitted in Open311's form fields (also the staff intake screen's).
pub(crate) fn raw_request(fields: &[(String, String)], media: Vec<Media>) -> RawRequest {
    let get = |k: &str| param(fields, k).cloned();
    let mut raw = RawRequest {
        service_code: get("service_code").unwrap_or_default(),
        description: get("description").unwrap_or_default(),
        lat: get("lat"),
        long: get("long"),
        address: get("address_string"),
        address_id: get("address_id"),
        zipcode: get("zipcode"),
        media_url: get("media_url"),
        media,
        ..RawRequest::default()
    };
    raw.contact.email = get("email");
    raw.contact.phone = get("phone");
    raw.contact.first_name = get("first_name");
    raw.contact.last_name = get("last_name");
    raw.contact.device_id = get("device_id");
    raw.contact.account_id = get("account_id");
    // Extensions: how and in which language the requester wants updates.
    raw.contact.language = get("language");
    raw.notify = get("notify");
    for (k, v) in fields {
        if let Some(rest) = k.strip_prefix("attribute[") {
            let code = rest.trim_end_matches("[]").trim_end_matches(']');
            raw.answers.entry(code.to_owned()).or_default().push(v.clone());
        }
    }
    raw
}

/// A refused photo in the Open311 error format: 413 when too large, 503 when every
/// photo worker stayed busy, 400 otherwise.
fn photo_error(format: Format, p: &PhotoProblem) -> Open311Error {
    Open311Error::new(crate::media::photo_status(p), format, p.to_string())
}

/// Reads a form-encoded or multipart body into fields and uploaded files, none of them
/// decoded yet. Text that is not UTF-8 is refused, and a body over the limit is a 413.
async fn read_body(req: Request, format: Format) -> Result<(Vec<(String, String)>, Vec<Upload>), Open311Error> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if content_type.starts_with("multipart/form-data") {
        let bad = |m: String| Open311Error::bad_request(format, m);
        let mp = Multipart::from_request(req, &()).await.map_err(|e| bad(format!("unreadable multipart body: {e}")))?;
        let parts = read_parts(mp).await.map_err(|e| {
            let status = if e.too_large { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST };
            Open311Error::new(status, format, e.to_string())
        })?;
        Ok((parts.fields, parts.uploads))
    } else {
        let fields =
            read_urlencoded(req, super::MAX_BODY).await.map_err(|p| Open311Error::new(p.status(), format, p.detail))?;
        Ok((fields, Vec::new()))
    }
}
