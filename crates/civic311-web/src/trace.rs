//! Request logging: a span per request named by the matched route (low cardinality),
//! and one debug line with status and duration. Failures are logged where they are
//! rendered, once, with their cause.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub async fn trace(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_owned();
    let method = req.method().clone();
    let span = tracing::info_span!("http", %method, route = %route);
    let started = Instant::now();
    let resp = next.run(req).instrument(span).await;
    tracing::debug!(%method, route, status = resp.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    resp
}
