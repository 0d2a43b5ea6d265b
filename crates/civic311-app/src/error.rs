//! The one error of the application layer. Each edge turns it into its own format in
//! one place: the staff API into `{"errors":[…]}` with a status, Open311 into its
//! error document, the staff pages and the portal into a page, the CLI into a line.

use civic311_domain::FieldError;
use civic311_domain::workflow::WorkflowError;
use civic311_store::StoreError;

use crate::LoadError;

/// Why an operation did nothing. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// What the caller named does not exist (or is not theirs to see).
    #[error("{0}")]
    NotFound(FieldError),
    /// The caller may not do this; the reason is for them to read.
    #[error("{0}")]
    Forbidden(String),
    /// Well formed, but not possible with things as they are: the thing changed under
    /// the caller, or is in a state that does not allow this (an action on a closed
    /// request; a configuration change made meanwhile; a change that would leave the
    /// city inconsistent, such as a team of a department that does not exist).
    #[error("{}", conflict(.0))]
    Conflict(FieldError),
    /// The input is wrong, field by field.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    /// Something this needs is missing or busy (no public URL to link to; every photo
    /// worker busy); trying later, or asking an administrator, helps.
    #[error("{0}")]
    Unavailable(String),
    /// A fault on our side (the database, corrupt data); logged where it is answered.
    #[error("{0}")]
    Internal(String),
}

fn conflict(f: &FieldError) -> String {
    if f.field.is_empty() { f.detail.clone() } else { f.to_string() }
}

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl AppError {
    /// One field is wrong.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, detail)])
    }

    /// Not possible with things as they are; `field` is the one at fault, if any.
    pub fn conflict(field: &str, detail: impl Into<String>) -> Self {
        Self::Conflict(FieldError::new(field, detail))
    }

    /// What `field` names does not exist.
    pub fn not_found(field: &str, detail: impl Into<String>) -> Self {
        Self::NotFound(FieldError::new(field, detail))
    }

    /// True when the error is about `field`: it names nothing that exists, or is wrong.
    pub fn names(&self, field: &str) -> bool {
        match self {
            Self::NotFound(f) => f.field == field,
            Self::Invalid(errors) => errors.iter().any(|f| f.field == field),
            _ => false,
        }
    }

    /// The field errors of an invalid input; empty for every other error.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Invalid(e) => e,
            _ => &[],
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::conflict("", m),
            StoreError::NotFound(m) => Self::not_found("", m),
            e => Self::Internal(e.to_string()),
        }
    }
}

impl From<LoadError> for AppError {
    fn from(e: LoadError) -> Self {
        Self::Internal(format!("the configuration could not be loaded: {e}"))
    }
}

impl From<WorkflowError> for AppError {
    fn from(e: WorkflowError) -> Self {
        match e {
            WorkflowError::NotAllowed { .. } => Self::conflict("action", e.to_string()),
            WorkflowError::Invalid { field, detail } => Self::invalid(&field, detail),
            WorkflowError::Conflict { field, detail } => Self::conflict(&field, detail),
        }
    }
}

/// What an operation of the application returns.
pub type AppResult<T> = Result<T, AppError>;
