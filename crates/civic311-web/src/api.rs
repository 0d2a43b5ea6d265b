//! The staff API at `/api/v1`: JSON, authenticated by per-user bearer tokens, scoped
//! by role and department. The router and the OpenAPI document at
//! `/api/v1/openapi.json` are both built from one table of operations
//! ([`openapi::OPERATIONS`]), so a route cannot exist undocumented.

mod auth;
mod config;
mod extract;
mod handlers;
pub mod openapi;
mod photos;
pub(crate) mod reports;
mod view;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use civic311_app::AppError;

use crate::AppState;

/// An error as the staff API reports it: `{"errors":[{"field","detail"}]}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, field: &str, detail: impl Into<String>) -> Self {
        Self { status, errors: vec![(field.to_owned(), detail.into())] }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "staff API failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "", "something went wrong on our side; it has been logged")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let errors: Vec<_> = self.errors.iter().map(|(f, d)| json!({ "field": f, "detail": d })).collect();
        (self.status, Json(json!({ "errors": errors }))).into_response()
    }
}

/// The staff API's form of every application error: the one place it is decided.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(f) => ApiError::new(StatusCode::NOT_FOUND, &f.field, f.detail),
            AppError::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, "authorization", why),
            AppError::Conflict(f) => ApiError::new(StatusCode::CONFLICT, &f.field, f.detail),
            AppError::Invalid(errors) => ApiError {
                status: StatusCode::BAD_REQUEST,
                errors: errors.into_iter().map(|f| (f.field, f.detail)).collect(),
            },
            AppError::Unavailable(why) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "", why),
            AppError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<civic311_store::StoreError> for ApiError {
    fn from(e: civic311_store::StoreError) -> Self {
        AppError::from(e).into()
    }
}

/// The staff API's routes.
pub fn router() -> axum::Router<AppState> {
    openapi::router().layer(axum::extract::DefaultBodyLimit::max(crate::open311::MAX_BODY))
}
