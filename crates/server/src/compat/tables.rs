//! What the compatible APIs' own tables share: running a query on the
//! store's database, whichever it is, and its errors in kinoflow's terms.

use kinoflow_engine::store::StoreError;

use crate::error::ApiError;

/// Runs one sqlx query on whichever database the store keeps its records in:
/// the statement is written once (`$N` placeholders read the same on both).
macro_rules! on_database {
    ($store:expr, |$pool:ident| $query:expr) => {
        match $store.extension_database() {
            kinoflow_engine::store::ExtensionDatabase::Sqlite($pool) => $query,
            kinoflow_engine::store::ExtensionDatabase::Postgres($pool) => $query,
        }
    };
}
pub(crate) use on_database;

/// A database failure, as the store's own errors are answered.
pub fn failed(error: sqlx::Error) -> ApiError {
    ApiError::from(StoreError::from(error))
}

/// Whether `error` is a unique constraint refusing a duplicate.
pub fn is_duplicate(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}
