//! Duplicates on the Open311 surface: `GET /open311/v2/duplicates.{fmt}` asks, before
//! filing, which open requests nearby a report would repeat; `POST requests` with
//! `extensions=true` lists them after filing; and
//! `POST /open311/v2/requests/{id}/followers.{fmt}` lets a resident follow an existing
//! request instead of filing a new one.

use crate::form::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use civic311_domain::duplicates::Probe;
use civic311_domain::geo::Point;

use super::doc::{Document, Node};
use super::render::{RequestView, request_node, respond};
use super::requests::{base_url, check_jurisdiction};
use super::{Format, Open311Error, split_format};
use crate::AppState;
use crate::throttle::ClientAddr;
use civic311_app::duplicates::{Found, candidates};

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

/// Public request nodes with how far away and how alike each candidate is.
pub fn nodes(found: &[Found], view: &RequestView<'_>) -> Vec<Node> {
    found
        .iter()
        .map(|f| {
            let mut node = request_node(&f.request, view, &[]);
            if let Node::Obj(fields) = &mut node {
                fields.push(("distance_m", Node::Num(f.distance_m.round())));
                fields.push(("score", Node::Num((f.score * 100.0).round() / 100.0)));
            }
            node
        })
        .collect()
}

/// `GET /open311/v2/duplicates.{fmt}?service_code=…&lat=…&long=…[&description=…]`.
pub async fn check(
    state: &AppState,
    headers: &HeaderMap,
    params: &[(String, String)],
    format: Format,
) -> Result<Response, Open311Error> {
    let city = state.city();
    let code =
        param(params, "service_code").ok_or_else(|| Open311Error::bad_request(format, "service_code is required"))?;
    if !city.service(code).is_some_and(|s| s.is_public()) {
        return Err(Open311Error::not_found(format, format!("service_code {code} not found")));
    }
    let number = |name: &str| param(params, name).and_then(|v| v.parse::<f64>().ok());
    let (Some(lat), Some(long)) = (number("lat"), number("long")) else {
        return Err(Open311Error::bad_request(format, "lat and long are required numbers"));
    };
    let point = Point::new(lat, long).map_err(|e| Open311Error::fields(format, &[e]))?;
    let description = param(params, "description").unwrap_or("");
    let probe = Probe { service_code: code, point, description, seq: None };
    let found = candidates(state, &city, &probe, true).await.map_err(|e| Open311Error::store(format, e))?;
    let base = base_url(state, headers);
    let view = RequestView { city: &city, base_url: &base, extensions: false, now: state.now() };
    let doc = Document { root: "service_requests", body: Node::list("request", nodes(&found, &view)) };
    Ok(respond(StatusCode::OK, format, &doc))
}

/// `POST /open311/v2/requests/{id}/followers.{fmt}` with `api_key`, `email` or
/// `phone`, optional `notify` (`email` or `sms`) and `language`. The address is sent
/// a link to confirm, and follows once it does (202, `following: pending`). Following
/// a request that was merged follows the original.
pub async fn follow(
    State(state): State<AppState>,
    client: ClientAddr,
    Path((id, file)): Path<(String, String)>,
    // A body that is not a form is answered in the format the path asked for.
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Open311Error> {
    let (name, format) = split_format(&file)?;
    if name != "followers" {
        return Err(Open311Error::not_found(format, format!("no resource requests/{id}/{file}")));
    }
    check_jurisdiction(&state, format, fields.iter().find(|(k, _)| k == "jurisdiction_id").map(|(_, v)| v))?;
    super::requests::admit(&state, format, &client, param(&fields, "api_key"))?;
    let follower = civic311_app::follow::follower(&fields).map_err(|m| Open311Error::bad_request(format, m))?;
    let not_found = || Open311Error::not_found(format, format!("service_request_id {id} not found"));
    let seq = state.request_named(&id).await.map_err(|e| Open311Error::store(format, e))?.ok_or_else(not_found)?.id.seq;
    let stored = civic311_app::follow::ask(&state, seq, follower).await.map_err(|e| Open311Error::app(format, e))?;
    let item = Node::Obj(vec![
        ("service_request_id", Node::text(stored.id.to_string())),
        ("status", Node::text(stored.status.open311())),
        ("following", Node::text("pending")),
        ("description", Node::text("a link to confirm was sent to the address; updates start once it is opened")),
    ]);
    let doc = Document { root: "service_requests", body: Node::list("request", vec![item]) };
    Ok(respond(StatusCode::ACCEPTED, format, &doc))
}
