//! Open311 GeoReport v2 (JSON and XML) at `/open311/v2/`, discovery at
//! `/open311/discovery.{json,xml}`.

mod discovery;
pub mod doc;
mod duplicates;
mod error;
pub(crate) mod render;
pub(crate) mod requests;
mod services;
mod tokens;
mod updates;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::AppState;

pub use error::Open311Error;
pub(crate) use requests::raw_request;

/// Largest POST body accepted (several photos).
pub const MAX_BODY: usize = 32 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/{file}", get(discovery::discovery))
        .route("/open311/v2/{file}", get(requests::list_or_services).post(requests::create))
        .route("/open311/v2/services/{file}", get(services::definition))
        .route("/open311/v2/requests/{file}", get(requests::one))
        .route("/open311/v2/requests/{id}/{file}", axum::routing::post(duplicates::follow))
        .route("/open311/v2/tokens/{file}", get(tokens::token))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// Anything unmatched: under `/open311/` an Open311 error document (XML when the path
/// asks for it), elsewhere plain text.
pub async fn not_found(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path();
    if !path.starts_with("/open311/") {
        return (axum::http::StatusCode::NOT_FOUND, "not found").into_response();
    }
    let format = if path.ends_with(".xml") { Format::Xml } else { Format::Json };
    let status = if method == axum::http::Method::GET || method == axum::http::Method::POST {
        axum::http::StatusCode::NOT_FOUND
    } else {
        axum::http::StatusCode::METHOD_NOT_ALLOWED
    };
    Open311Error::new(status, format, format!("no resource {method} {path}")).into_response()
}

/// 405 for an Open311 path asked with a method it does not take.
pub fn method_not_allowed(path: &str, detail: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    let format = if path.ends_with(".xml") { Format::Xml } else { Format::Json };
    Open311Error::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, format, detail).into_response()
}

/// The response format, chosen by the path's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// Splits `name.json` / `name.xml`; anything else is not an Open311 resource.
pub fn split_format(file: &str) -> Result<(&str, Format), Open311Error> {
    match file.rsplit_once('.') {
        Some((name, "json")) => Ok((name, Format::Json)),
        Some((name, "xml")) => Ok((name, Format::Xml)),
        _ => Err(Open311Error::not_found(Format::Json, format!("no resource {file}: add .json or .xml"))),
    }
}
