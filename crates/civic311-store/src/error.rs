//! Store errors, in terms callers can act on.

/// What can go wrong in a store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    /// The change conflicts with stored data (a duplicate key, a missing reference).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data could not be read back into the domain (a bug or a hand-edited row).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The transaction holding this change could not commit; nothing of it was kept.
    #[error("commit failed: {0}")]
    CommitFailed(String),
    #[error("the store is shutting down")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && matches!(
                db.kind(),
                sqlx::error::ErrorKind::UniqueViolation | sqlx::error::ErrorKind::ForeignKeyViolation
            )
        {
            return StoreError::Conflict(db.message().to_owned());
        }
        StoreError::Database(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
