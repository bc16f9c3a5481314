//! What front ends read of the engine's records: jobs and their events,
//! the queue, the worker processes, and whether the engine's database and
//! storage answer.

use kinoflow_blobs::BlobError;
use kinoflow_store::{
    JobCount, JobEvent, JobFilter, JobRecord, QueueStat, StoreError, WorkerRecord,
};

use crate::engine::Engine;

/// Whether the database and the storage answer, each with its error.
pub struct Readiness {
    pub database: Result<(), StoreError>,
    pub storage: Result<(), BlobError>,
}

impl Engine {
    /// A job, if it exists.
    pub async fn job(&self, job_id: &str) -> Result<Option<JobRecord>, StoreError> {
        self.store.get_job(job_id).await
    }

    /// The jobs `filter` selects, newest first.
    pub async fn jobs(&self, filter: &JobFilter) -> Result<Vec<JobRecord>, StoreError> {
        self.store.list_jobs(filter).await
    }

    /// The job an owner submitted under an idempotency key, if any.
    pub async fn job_by_idempotency_key(
        &self,
        owner_id: &str,
        key: &str,
    ) -> Result<Option<JobRecord>, StoreError> {
        self.store.job_by_idempotency_key(owner_id, key).await
    }

    /// Up to `limit` of a job's events after the event `after_id`, oldest first.
    pub async fn events_after(
        &self,
        job_id: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<JobEvent>, StoreError> {
        self.store.events_after(job_id, after_id, limit).await
    }

    /// How many jobs are in each pipeline and state.
    pub async fn count_jobs(&self) -> Result<Vec<JobCount>, StoreError> {
        self.store.count_jobs().await
    }

    /// Queued, retrying and running jobs by pipeline and state.
    pub async fn queue_stats(&self) -> Result<Vec<QueueStat>, StoreError> {
        self.store.queue_stats().await
    }

    /// The worker processes that announced themselves since `since` (ms).
    pub async fn workers(&self, since: i64) -> Result<Vec<WorkerRecord>, StoreError> {
        self.store.list_workers(since).await
    }

    /// Whether the database and the storage answer now.
    pub async fn readiness(&self) -> Readiness {
        let (database, storage) = tokio::join!(self.store.ping(), self.blobs.ping());
        Readiness { database, storage }
    }
}
