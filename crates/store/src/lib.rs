//! The repository of kinoflow: users, API keys, uploads, jobs, job events,
//! artifacts, webhook endpoints and the outbox of notifications. The engine
//! and the server talk to the [`Store`] trait only; SQLite (embedded) and
//! PostgreSQL (shared by several nodes) implement it.

mod error;
mod model;
mod notifications;
mod postgres;
mod repository;
mod rows;
mod shared;
mod sqlite;

pub use error::StoreError;
pub use model::*;
pub use postgres::PostgresStore;
pub use repository::{Store, StoreResult};
pub use sqlite::SqliteStore;

/// Milliseconds since the Unix epoch: the one clock every record is stamped with.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
