//! The production-variables service's machines, in a table of their own
//! beside the store's (a store [`Extension`]). A machine is also its own
//! model (its `model_id` is its id); its training is a `relevance` job,
//! whose state is its status — unless an external trainer reported one
//! through the webhook since.

use kinoflow_engine::store::{now_ms, Extension, ExtensionMigration, Store};
use sqlx::FromRow;

use crate::compat::tables::{failed, on_database};
use crate::error::ApiError;

/// The first schema, in SQL that differs between the databases only in how
/// an id counts up and in the integer type.
macro_rules! schema {
    ($id:literal, $integer:literal) => {
        concat!(
            "CREATE TABLE production_machines (
                 id ",
            $id,
            ",
                 owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                 machine_name TEXT NOT NULL,
                 job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
                 reported_status TEXT,
                 reported_metrics TEXT,
                 created_at ",
            $integer,
            " NOT NULL
             );
             CREATE INDEX production_machines_owner ON production_machines (owner_id, id);"
        )
    };
}

/// The table. Integer ids, as the original's clients expect; a machine
/// goes with its owner, and forgets a deleted job.
pub const EXTENSION: Extension = Extension {
    name: "production-variables",
    sqlite: &[ExtensionMigration {
        version: 1,
        description: "machines",
        sql: schema!("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"),
    }],
    postgres: &[ExtensionMigration {
        version: 1,
        description: "machines",
        sql: schema!("BIGSERIAL PRIMARY KEY", "BIGINT"),
    }],
};

/// A machine's columns, in the order `select_machines!` reads them.
#[derive(Debug, Clone, FromRow)]
pub struct MachineRow {
    pub id: i64,
    pub owner_id: String,
    pub machine_name: String,
    /// Its latest training.
    pub job_id: Option<String>,
    /// What an external trainer reported last (the webhook).
    pub reported_status: Option<String>,
    /// JSON.
    pub reported_metrics: Option<String>,
}

/// A statement that reads whole machines, `$tail` its conditions.
macro_rules! select_machines {
    ($tail:literal) => {
        concat!(
            "SELECT id, owner_id, machine_name, job_id, reported_status, reported_metrics \
             FROM production_machines ",
            $tail
        )
    };
}

/// The table over one store.
pub struct Machines<'a>(pub &'a dyn Store);

impl Machines<'_> {
    /// A new machine of `owner_id`'s.
    pub async fn create(&self, owner_id: &str, name: &str) -> Result<MachineRow, ApiError> {
        let statement = concat!(
            "INSERT INTO production_machines (owner_id, machine_name, created_at) \
             VALUES ($1, $2, $3) RETURNING ",
            "id, owner_id, machine_name, job_id, reported_status, reported_metrics"
        );
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .bind(owner_id)
            .bind(name)
            .bind(now_ms())
            .fetch_one(pool)
            .await)
        .map_err(failed)
    }

    /// The owner's machines, in the order they were made.
    pub async fn of_owner(&self, owner_id: &str) -> Result<Vec<MachineRow>, ApiError> {
        let statement = select_machines!("WHERE owner_id = $1 ORDER BY id");
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .bind(owner_id)
            .fetch_all(pool)
            .await)
        .map_err(failed)
    }

    /// Machine `id`, whoever owns it.
    pub async fn get(&self, id: i64) -> Result<Option<MachineRow>, ApiError> {
        let statement = select_machines!("WHERE id = $1");
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .bind(id)
            .fetch_optional(pool)
            .await)
        .map_err(failed)
    }

    pub async fn delete(&self, id: i64) -> Result<(), ApiError> {
        let statement = "DELETE FROM production_machines WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// A new training: its job, and no trainer's report over it.
    pub async fn start_training(&self, id: i64, job_id: &str) -> Result<(), ApiError> {
        let statement = "UPDATE production_machines \
                         SET job_id = $2, reported_status = NULL, reported_metrics = NULL \
                         WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(job_id)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// What an external trainer says of a machine (metrics kept unless new
    /// ones come).
    pub async fn report(
        &self,
        id: i64,
        status: &str,
        metrics: Option<&str>,
    ) -> Result<(), ApiError> {
        let statement = "UPDATE production_machines \
                         SET reported_status = $2, reported_metrics = COALESCE($3, reported_metrics) \
                         WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(status)
            .bind(metrics)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }
}
