//! Who is calling: a bearer token looked up by its SHA-256, and what their role and
//! department allow.

use axum::http::{HeaderMap, StatusCode};
use civic311_app::tokens::token_hash;
use civic311_domain::org::{Role, StaffUser};

use super::ApiError;
use crate::AppState;

/// The caller, from `Authorization: Bearer <token>`.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<StaffUser, ApiError> {
    let unauthorized = |d: &str| ApiError::new(StatusCode::UNAUTHORIZED, "authorization", d);
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send your API token as 'Authorization: Bearer <token>'"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header must be 'Bearer <token>'"))?;
    let user = state
        .store
        .user_for_token(&token_hash(token), state.now())
        .await?
        .ok_or_else(|| unauthorized("unknown, expired or revoked API token"))?;
    if !user.active {
        return Err(unauthorized(&format!("{} is no longer active; their tokens do not work", user.username)));
    }
    Ok(user)
}

fn forbidden(detail: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "authorization", detail)
}

/// Refuses anyone but administrators.
pub fn require_admin(user: &StaffUser) -> Result<(), ApiError> {
    if user.role == Role::Admin {
        return Ok(());
    }
    Err(forbidden(format!("only administrators may do this; {} is {}", user.username, user.role.as_str())))
}

/// Refuses anyone but supervisors and administrators.
pub fn require_supervisor(user: &StaffUser) -> Result<(), ApiError> {
    if civic311_domain::policy::reads_outbox(user) {
        return Ok(());
    }
    Err(forbidden(format!(
        "only supervisors and administrators may do this; {} is {}",
        user.username,
        user.role.as_str()
    )))
}
