//! The shared backend: PostgreSQL, for API and worker nodes on several
//! machines. Claims skip rows other workers hold (`FOR UPDATE SKIP LOCKED`)
//! and new jobs wake idle workers everywhere through LISTEN/NOTIFY.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{Pool, Postgres};
use tokio::sync::Notify;

use crate::dialect::{Claim, Dialect};
use crate::extension::{Extension, ExtensionDatabase, ExtensionMigration};
use crate::repository::StoreResult;
use crate::store::SqlStore;

/// The PostgreSQL store.
pub type PostgresStore = SqlStore<Postgres>;

/// The channel on which a queued job is announced.
const NEW_JOBS_CHANNEL: &str = "kinoflow_new_jobs";

impl Dialect for Postgres {
    const CLAIM: Claim = Claim::Batch(include_str!("../sql/postgres/claim_jobs.sql"));
    const RENEW_LEASES: &'static str = include_str!("../sql/postgres/renew_leases.sql");
    const FINISH_JOBS: &'static str = include_str!("../sql/postgres/finish_jobs.sql");
    const INSERT_EVENTS: &'static str = include_str!("../sql/postgres/insert_events.sql");
    const INSERT_JOBS: &'static str = include_str!("../sql/postgres/insert_jobs.sql");
    const CLAIM_DELIVERIES: &'static str = include_str!("../sql/postgres/claim_deliveries.sql");
    /// Tells every listening worker that a job can be claimed (sent on
    /// commit, on [`NEW_JOBS_CHANNEL`]).
    const ANNOUNCE_NEW_JOB: Option<&'static str> =
        Some("SELECT pg_notify('kinoflow_new_jobs', '')");
    /// Makes the claim wait for claims in progress on every node (until
    /// their commit), so that it counts the jobs they started: without it,
    /// workers woken together would all see a user under the cap and all
    /// take one of their jobs.
    const SERIALIZE_CLAIMS: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(hashtext('kinoflow_claims'))");
    const SERIALIZE_MIGRATIONS: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(hashtext('kinoflow_extension_migrations'))");

    fn extension_steps(extension: &Extension) -> &'static [ExtensionMigration] {
        extension.postgres
    }

    fn extension_database(pool: &Pool<Self>) -> ExtensionDatabase<'_> {
        ExtensionDatabase::Postgres(pool)
    }

    async fn watch_new_jobs(pool: &Pool<Self>, wake: Arc<Notify>) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(NEW_JOBS_CHANNEL).await?;
        loop {
            // recv reconnects by itself after a lost connection; the
            // workers' polling covers what was announced meanwhile.
            listener.recv().await?;
            wake.notify_waiters();
        }
    }
}

impl SqlStore<Postgres> {
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
