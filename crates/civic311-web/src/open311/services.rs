//! `GET /services.{fmt}` and `GET /services/{code}.{fmt}`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::doc::{Document, Node};
use super::render::{definition_document, respond, service_node};
use super::{Format, Open311Error, split_format};
use crate::AppState;

/// The public service list.
pub fn list(state: &AppState, format: Format) -> Response {
    let city = state.city();
    let items = city.public_services().map(service_node).collect();
    respond(StatusCode::OK, format, &Document { root: "services", body: Node::list("service", items) })
}

pub async fn definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Open311Error> {
    let (code, format) = split_format(&file)?;
    super::requests::check_jurisdiction(&state, format, params.get("jurisdiction_id"))?;
    let city = state.city();
    match city.service(code).filter(|s| s.is_public()) {
        Some(s) => Ok(respond(StatusCode::OK, format, &definition_document(s))),
        None => Err(Open311Error::not_found(format, format!("service_code {code} not found"))),
    }
}
