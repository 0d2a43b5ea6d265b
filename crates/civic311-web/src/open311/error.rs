//! The Open311 error document: `[{"code":400,"description":"…"}]` or
//! `<errors><error><code>400</code><description>…</description></error></errors>`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use civic311_app::AppError;
use civic311_domain::FieldError;
use civic311_store::StoreError;

use super::Format;
use super::doc::{Document, Node};
use super::render::respond;

/// An Open311 error response with one or more messages.
#[derive(Debug)]
pub struct Open311Error {
    pub status: StatusCode,
    pub format: Format,
    pub messages: Vec<String>,
    /// Seconds to wait before trying again (`Retry-After`), for a 429.
    pub retry_after: Option<u64>,
}

impl Open311Error {
    pub fn new(status: StatusCode, format: Format, message: impl Into<String>) -> Self {
        Self::many(status, format, vec![message.into()])
    }

    /// An error with several messages.
    pub fn many(status: StatusCode, format: Format, messages: Vec<String>) -> Self {
        Self { status, format, messages, retry_after: None }
    }

    /// 429: a budget is spent for now; `why` says whose (the key's, or the address's).
    pub fn too_many(format: Format, retry_after: u64, why: &str) -> Self {
        let message = format!("{why}; try again in {retry_after} s");
        Self { retry_after: Some(retry_after), ..Self::new(StatusCode::TOO_MANY_REQUESTS, format, message) }
    }

    pub fn bad_request(format: Format, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, format, message)
    }

    pub fn not_found(format: Format, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, format, message)
    }

    pub fn forbidden(format: Format, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, format, message)
    }

    /// A 400 listing every field problem.
    pub fn fields(format: Format, errors: &[FieldError]) -> Self {
        Self::many(StatusCode::BAD_REQUEST, format, errors.iter().map(|e| e.to_string()).collect())
    }

    /// A store failure: logged once with its cause, shown without internals.
    pub fn store(format: Format, e: StoreError) -> Self {
        Self::app(format, AppError::from(e))
    }

    /// Open311's form of every application error: the one place it is decided.
    pub fn app(format: Format, e: AppError) -> Self {
        match e {
            AppError::NotFound(f) => Self::not_found(format, f.detail),
            AppError::Forbidden(why) => Self::forbidden(format, why),
            e @ AppError::Conflict(_) => Self::new(StatusCode::CONFLICT, format, e.to_string()),
            AppError::Invalid(errors) => Self::fields(format, &errors),
            AppError::Unavailable(why) => Self::new(StatusCode::SERVICE_UNAVAILABLE, format, why),
            AppError::Internal(e) => {
                tracing::error!(error = %e, "Open311 call failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format,
                    "the request could not be completed; please try again",
                )
            }
        }
    }

    pub fn document(&self) -> Document {
        let code = i64::from(self.status.as_u16());
        let items = self
            .messages
            .iter()
            .map(|m| Node::Obj(vec![("code", Node::Int(code)), ("description", Node::text(m.clone()))]))
            .collect();
        Document { root: "errors", body: Node::list("error", items) }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let mut response = respond(self.status, self.format, &self.document());
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
