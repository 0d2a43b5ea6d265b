//! Who is calling: a bearer token looked up by its SHA-256, and what their role and
//! department allow.

use axum::http::{HeaderMap, StatusCode};
use civic311_domain::org::{Role, StaffUser};
use civic311_domain::request::ServiceRequest;
use civic311_domain::workflow::Action;
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::AppState;

/// The stored form of a token: its SHA-256 in hex.
pub fn token_hash(token: &str) -> String {
    civic311_domain::audit::hex(&Sha256::digest(token.as_bytes()))
}

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

/// True for the roles that may read the outbox (who was sent what) and the delivery log.
pub fn reads_outbox(user: &StaffUser) -> bool {
    matches!(user.role, Role::Admin | Role::Supervisor)
}

/// Refuses anyone but supervisors and administrators.
pub fn require_supervisor(user: &StaffUser) -> Result<(), ApiError> {
    if reads_outbox(user) {
        return Ok(());
    }
    Err(forbidden(format!(
        "only supervisors and administrators may do this; {} is {}",
        user.username,
        user.role.as_str()
    )))
}

/// Refuses, with the reason, an action the user's role or department does not allow.
pub fn may_act(user: &StaffUser, req: &ServiceRequest, action: &Action) -> Result<(), String> {
    let name = action.name();
    let allowed_by_role = match user.role {
        Role::Admin | Role::Supervisor | Role::Staff => !matches!(action, Action::Rate { .. }),
        Role::Field => matches!(
            action,
            Action::Start { .. }
                | Action::Hold { .. }
                | Action::Resume { .. }
                | Action::Note { .. }
                | Action::AttachPhotos { .. }
                | Action::Resolve { .. }
        ),
        Role::Intake => matches!(action, Action::Note { .. } | Action::AttachPhotos { .. }),
        Role::Analyst => false,
    };
    if !allowed_by_role {
        return Err(format!("the {} role may not {name}", user.role.as_str()));
    }
    // Intake staff add notes and photos to any request (a caller's follow-up); everyone else acts
    // within their departments.
    if user.role != Role::Intake && !user.covers(&req.assignment.department) {
        return Err(format!(
            "{} is owned by {}; {} acts on {} requests",
            req.id, req.assignment.department, user.username, user.department
        ));
    }
    Ok(())
}
