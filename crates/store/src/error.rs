//! What can go wrong in the store, in terms the callers can act on.

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (an e-mail address, say) is already taken.
    #[error("{0}")]
    Conflict(String),
    /// An idempotency key came back with a different submission than the
    /// one it was first used for.
    #[error("this Idempotency-Key was used for a different submission (job {job_id}); use a new key for a new job")]
    KeyReused { job_id: String },
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database failed a transaction this request shared with others
    /// (a group commit); the first of them got the error itself.
    #[error("database error: {0}")]
    Unavailable(String),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back (corrupt JSON, unknown state).
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}
