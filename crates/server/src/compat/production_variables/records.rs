//! The production-variables service's machines, and the models of the
//! relevance service it called, in a table of their own beside the store's
//! (a store [`Extension`]). A machine is also its own model (its `model_id`
//! is its id); a model made through the relevance service's API is a row
//! of kind `model`, which the machines' routes do not show. A training is a
//! `relevance` job, whose state is the row's status — unless an external
//! trainer reported one through the webhook since; a model's training may
//! name a URL to call back when it ends.

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

/// The second step, the same SQL for both databases: models of the
/// relevance service's API beside machines, and their callbacks.
const MODELS: &str =
    "ALTER TABLE production_machines ADD COLUMN kind TEXT NOT NULL DEFAULT 'machine';
     ALTER TABLE production_machines ADD COLUMN callback_url TEXT;
     ALTER TABLE production_machines ADD COLUMN announced_job_id TEXT;";

/// The table. Integer ids, as the original's clients expect; a machine
/// goes with its owner, and forgets a deleted job.
pub const EXTENSION: Extension = Extension {
    name: "production-variables",
    sqlite: &[
        ExtensionMigration {
            version: 1,
            description: "machines",
            sql: schema!("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"),
        },
        ExtensionMigration {
            version: 2,
            description: "models and their callbacks",
            sql: MODELS,
        },
    ],
    postgres: &[
        ExtensionMigration {
            version: 1,
            description: "machines",
            sql: schema!("BIGSERIAL PRIMARY KEY", "BIGINT"),
        },
        ExtensionMigration {
            version: 2,
            description: "models and their callbacks",
            sql: MODELS,
        },
    ],
};

/// What a row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Made through the backend's API (`POST /machines/`).
    Machine,
    /// Made through the relevance service's API (`POST /models`).
    Model,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Machine => "machine",
            Kind::Model => "model",
        }
    }
}

/// A machine's (or model's) columns, in the order `select_machines!` reads them.
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
    /// `machine` or `model` ([`Kind`]).
    kind: String,
}

impl MachineRow {
    pub fn is(&self, kind: Kind) -> bool {
        self.kind == kind.as_str()
    }
}

/// The columns of a whole row, as [`MachineRow`] reads them.
macro_rules! machine_columns {
    () => {
        "id, owner_id, machine_name, job_id, reported_status, reported_metrics, kind"
    };
}

/// A statement that reads whole machines, `$tail` its conditions.
macro_rules! select_machines {
    ($tail:literal) => {
        concat!(
            "SELECT ",
            machine_columns!(),
            " FROM production_machines ",
            $tail
        )
    };
}

/// A training that ended and whose callback was not queued yet.
#[derive(Debug, Clone, FromRow)]
pub struct EndedTraining {
    pub id: i64,
    pub owner_id: String,
    pub job_id: String,
    pub callback_url: String,
    /// The job's state.
    pub state: String,
}

/// The table over one store.
pub struct Machines<'a>(pub &'a dyn Store);

impl Machines<'_> {
    /// A new machine (or model) of `owner_id`'s.
    pub async fn create(
        &self,
        owner_id: &str,
        name: &str,
        kind: Kind,
    ) -> Result<MachineRow, ApiError> {
        let statement = concat!(
            "INSERT INTO production_machines (owner_id, machine_name, kind, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING ",
            machine_columns!()
        );
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .bind(owner_id)
            .bind(name)
            .bind(kind.as_str())
            .bind(now_ms())
            .fetch_one(pool)
            .await)
        .map_err(failed)
    }

    /// The owner's machines (not models), in the order they were made.
    pub async fn of_owner(&self, owner_id: &str) -> Result<Vec<MachineRow>, ApiError> {
        let statement = select_machines!("WHERE owner_id = $1 AND kind = 'machine' ORDER BY id");
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

    /// A new training: its job, the URL to call when it ends, and no
    /// trainer's report over it.
    pub async fn start_training(
        &self,
        id: i64,
        job_id: &str,
        callback_url: Option<&str>,
    ) -> Result<(), ApiError> {
        let statement = "UPDATE production_machines \
                         SET job_id = $2, callback_url = $3, \
                             reported_status = NULL, reported_metrics = NULL \
                         WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(job_id)
            .bind(callback_url)
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

    /// Trainings that ended, with a URL to call, not announced yet.
    pub async fn ended_unannounced(&self) -> Result<Vec<EndedTraining>, ApiError> {
        let statement = "SELECT m.id, m.owner_id, m.job_id, m.callback_url, j.state \
                         FROM production_machines m JOIN jobs j ON j.id = m.job_id \
                         WHERE m.callback_url IS NOT NULL \
                           AND (m.announced_job_id IS NULL OR m.announced_job_id <> m.job_id) \
                           AND j.state IN ('succeeded', 'failed', 'cancelled') \
                         ORDER BY m.id";
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .fetch_all(pool)
            .await)
        .map_err(failed)
    }

    /// Notes that the end of training `job_id` was announced.
    pub async fn announced(&self, id: i64, job_id: &str) -> Result<(), ApiError> {
        let statement = "UPDATE production_machines SET announced_job_id = $2 \
                         WHERE id = $1 AND job_id = $2";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(job_id)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }
}
