//! `GET /open311/discovery.{json,xml}`: where the endpoints are and what they speak.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::doc::{Document, Node};
use super::render::respond;
use super::{Open311Error, split_format};
use crate::AppState;

/// Date of the last change to the endpoint's contract.
const CHANGESET: &str = "2026-11-23T00:00:00Z";

pub async fn discovery(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, Open311Error> {
    let (name, format) = split_format(&file)?;
    if name != "discovery" {
        return Err(Open311Error::not_found(format, format!("no resource {file}")));
    }
    let city = state.city();
    let base = super::requests::base_url(&state, &headers);
    let endpoint = Node::Obj(vec![
        ("specification", Node::text("http://wiki.open311.org/GeoReport_v2")),
        ("url", Node::text(format!("{base}/open311/v2"))),
        ("changeset", Node::text(CHANGESET)),
        ("type", Node::text("production")),
        ("formats", Node::list("format", vec![Node::text("text/xml"), Node::text("application/json")])),
    ]);
    let doc = Document {
        root: "discovery",
        body: Node::Obj(vec![
            ("changeset", Node::text(CHANGESET)),
            ("contact", Node::text(&city.settings.contact)),
            ("key_service", Node::text(format!("Ask {} for an API key to post requests.", city.settings.name))),
            ("endpoints", Node::list("endpoint", vec![endpoint])),
        ]),
    };
    Ok(respond(StatusCode::OK, format, &doc))
}
