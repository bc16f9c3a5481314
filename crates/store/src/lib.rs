//! The repository of kinoflow: users, API keys, uploads, jobs, job events,
//! artifacts, webhook endpoints and the outbox of notifications. The engine
//! and the server talk to the [`Store`] trait only; SQLite (embedded) and
//! PostgreSQL (shared by several nodes) implement it, with SQL written once
//! per concern over the few differences between the two (a `Dialect`).

mod artifacts;
mod backup;
mod dialect;
mod error;
mod extension;
mod jobs;
mod leases;
mod model;
mod notifications;
mod postgres;
mod repository;
mod rows;
mod sql;
mod sqlite;
mod store;
mod uploads;
mod users;
mod workers;

pub use backup::{sqlite_file, sqlite_integrity_problems, SchemaVersions};
pub use error::StoreError;
pub use extension::{Extension, ExtensionDatabase, ExtensionMigration};
pub use model::*;
pub use postgres::PostgresStore;
pub use repository::{Store, StoreResult};
pub use sqlite::SqliteStore;
pub use store::SqlStore;

/// Milliseconds since the Unix epoch: the one clock every record is stamped with.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
