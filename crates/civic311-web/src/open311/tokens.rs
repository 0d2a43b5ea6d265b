//! `GET /tokens/{token}.{fmt}`: the request id behind a batch token.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::doc::{Document, Node};
use super::render::respond;
use super::{Open311Error, split_format};
use crate::AppState;

pub async fn token(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Open311Error> {
    let (token, format) = split_format(&file)?;
    super::requests::check_jurisdiction(&state, format, params.get("jurisdiction_id"))?;
    let city = state.city();
    let found = state.store.request_by_token(token).await.map_err(|e| Open311Error::store(format, e))?;
    match found.filter(|r| city.service(&r.service_code).is_some_and(|s| s.is_public())) {
        Some(r) => {
            let item =
                Node::Obj(vec![("service_request_id", Node::text(r.id.to_string())), ("token", Node::text(token))]);
            Ok(respond(
                StatusCode::OK,
                format,
                &Document { root: "service_requests", body: Node::list("request", vec![item]) },
            ))
        }
        None => Err(Open311Error::not_found(format, format!("token {token} not found"))),
    }
}
