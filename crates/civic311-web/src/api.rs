//! The staff API at `/api/v1`: JSON, authenticated by per-user bearer tokens, scoped
//! by role and department. The router and the OpenAPI document at
//! `/api/v1/openapi.json` are both built from one table of operations
//! ([`openapi::OPERATIONS`]), so a route cannot exist undocumented.

mod auth;
mod config;
mod handlers;
pub mod openapi;
mod photos;
mod view;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;

pub use auth::token_hash;
pub(crate) use auth::{may_act, reads_outbox};

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

impl From<civic311_store::StoreError> for ApiError {
    fn from(e: civic311_store::StoreError) -> Self {
        match e {
            civic311_store::StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "", m),
            e => ApiError::internal(e),
        }
    }
}

/// Applies `action` to request `seq` as member of staff `user`, if their role and
/// department allow it — checked on the very copy the action is decided on, so a
/// concurrent transfer cannot let it through on a request they no longer cover. Both
/// the staff API and the workspace act through here.
///
/// `internal_note`, when given, is recorded with the action as a note for staff only.
pub(crate) async fn act_as_staff(
    state: &AppState,
    user: &civic311_domain::org::StaffUser,
    seq: i64,
    action: &civic311_domain::workflow::Action,
    internal_note: Option<&str>,
) -> Result<civic311_domain::request::ServiceRequest, civic311_jobs::ActError> {
    let city = state.city();
    let guard = |r: &civic311_domain::request::ServiceRequest| may_act(user, r, action);
    let actor = civic311_domain::workflow::Actor::Staff(user.username.clone());
    let model = &city.workflow;
    civic311_jobs::act_noted(&state.store, model, seq, action, internal_note, &actor, &guard, state.now()).await
}

/// The staff API's routes.
pub fn router() -> axum::Router<AppState> {
    openapi::router().layer(axum::extract::DefaultBodyLimit::max(crate::open311::MAX_BODY))
}
