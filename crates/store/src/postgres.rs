//! The shared backend: PostgreSQL, for API and worker nodes on several
//! machines. Claims skip rows other workers hold (`FOR UPDATE SKIP LOCKED`)
//! and new jobs wake idle workers everywhere through LISTEN/NOTIFY.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::postgres::{PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row, Transaction};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::*;
use crate::notifications::with_notification_methods;
use crate::now_ms;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::shared::shared_store;

stored_row!(PgRow);

/// Jobs match the pipelines bound as parameter 7, a JSON array of names.
const PIPELINE_IN_JSON_7: &str = "(SELECT json_array_elements_text($7::json))";
/// Workers skip the rows other workers are claiming instead of waiting for them.
const CLAIM_LOCK: &str = "FOR UPDATE SKIP LOCKED";
/// PostgreSQL's planner finds the queue index by itself.
const QUEUE_INDEX: &str = "";
/// It finds each owner's waiting jobs by itself too.
const WAITING_BY_OWNER_INDEX: &str = "";

/// The channel on which a queued job is announced.
const NEW_JOBS_CHANNEL: &str = "kinoflow_new_jobs";
/// The name of the advisory lock that serialises claims under a cap.
const CLAIMS_LOCK: &str = "kinoflow_claims";

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to a `postgres://` URL and applies the migrations.
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

/// Tells every listening worker that a job can be claimed (sent on commit).
async fn announce_new_job(tx: &mut Transaction<'_, Postgres>) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(NEW_JOBS_CHANNEL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Makes the transaction's claim wait for claims in progress on every node
/// (until their commit), so that it counts the jobs they started: without
/// it, workers woken together would all see a user under the cap and all
/// take one of their jobs.
async fn serialize_claims(tx: &mut Transaction<'_, Postgres>) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(CLAIMS_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

with_notification_methods!(shared_store, PostgresStore, Postgres, {
    async fn watch_new_jobs(&self, wake: Arc<Notify>) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(NEW_JOBS_CHANNEL).await?;
        loop {
            // recv reconnects by itself after a lost connection; the
            // workers' polling covers what was announced meanwhile.
            listener.recv().await?;
            wake.notify_waiters();
        }
    }
});
