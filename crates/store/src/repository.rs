//! The one interface every store backend implements.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::backup::SchemaVersions;
use crate::error::StoreError;
use crate::extension::{Extension, ExtensionDatabase};
use crate::model::*;

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything kinoflow keeps in its database. Each method is one transaction:
/// a state change and the event row that records it are written together.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;

    // Users and API keys.
    async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
    ) -> StoreResult<UserRecord>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>>;
    async fn create_api_key(
        &self,
        user_id: &str,
        name: &str,
        prefix: &str,
        key_hash: &str,
    ) -> StoreResult<ApiKeyRecord>;
    async fn list_api_keys(&self, user_id: &str) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes one of the user's keys; false when the user has no such key.
    async fn revoke_api_key(&self, user_id: &str, key_id: &str) -> StoreResult<bool>;
    /// The owner of a key that is not revoked.
    async fn user_by_api_key_hash(&self, key_hash: &str) -> StoreResult<Option<UserRecord>>;

    /// Keeps a browser session (its id's hash) until `expires_at` (ms).
    async fn create_session(
        &self,
        id_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The user of a session that has not expired.
    async fn user_by_session_hash(&self, id_hash: &str) -> StoreResult<Option<UserRecord>>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;

    // Uploads.
    async fn insert_upload(&self, upload: &UploadRecord) -> StoreResult<()>;
    async fn get_upload(&self, id: &str) -> StoreResult<Option<UploadRecord>>;
    /// Those of `ids` that exist, in any order, in one round trip.
    async fn get_uploads(&self, ids: &[String]) -> StoreResult<Vec<UploadRecord>>;
    /// Deletes an upload's record unless a job that has not ended uses it;
    /// ended jobs that used it stop naming it.
    async fn delete_upload(&self, id: &str) -> StoreResult<UploadRemoval>;
    /// Bytes the user keeps: their uploads and their jobs' artifacts.
    async fn storage_used(&self, owner_id: &str) -> StoreResult<i64>;
    /// Up to `limit` uploads made before `before` (ms since epoch) that no
    /// job which has not ended uses, oldest first.
    async fn unused_uploads_before(
        &self,
        before: i64,
        limit: i64,
    ) -> StoreResult<Vec<UploadRecord>>;

    // Presigned uploads.
    async fn insert_presigned_upload(&self, upload: &PresignedUpload) -> StoreResult<()>;
    async fn get_presigned_upload(&self, id: &str) -> StoreResult<Option<PresignedUpload>>;
    /// Records the object a PUT wrote for a presigned upload, replacing the
    /// one before; false when the upload was completed meanwhile (or is gone).
    async fn record_presigned_content(
        &self,
        id: &str,
        key: &str,
        size: i64,
        sha256: &str,
    ) -> StoreResult<bool>;
    /// Inserts the upload a presigned upload (of the same id) became and
    /// marks that one completed, together; false when it was completed already.
    async fn complete_presigned_upload(&self, upload: &UploadRecord) -> StoreResult<bool>;
    /// Up to `limit` presigned uploads whose URL expired before `before_s`
    /// (seconds since epoch), completed or not.
    async fn expired_presigned_uploads(
        &self,
        before_s: i64,
        limit: i64,
    ) -> StoreResult<Vec<PresignedUpload>>;
    async fn delete_presigned_upload(&self, id: &str) -> StoreResult<()>;

    // Jobs.
    /// Inserts a queued job and its first event. With an idempotency key that the
    /// owner already used for the same submission ([`NewJob::fingerprint`]),
    /// returns the earlier job instead and `false`; for another submission,
    /// [`StoreError::KeyReused`].
    /// Queues groups of jobs in one transaction, each group whole or not at
    /// all; one answer per group, in order. A job whose idempotency key the
    /// owner used before is the earlier job (`false` beside it).
    async fn create_job_groups(
        &self,
        groups: Vec<Vec<NewJob>>,
    ) -> StoreResult<Vec<StoreResult<Vec<(JobRecord, bool)>>>>;
    /// Queues one job, or finds the one its idempotency key stands for.
    async fn create_job(&self, job: NewJob) -> StoreResult<(JobRecord, bool)> {
        let mut answers = self.create_job_groups(vec![vec![job]]).await?;
        let mut records = answers.pop().unwrap_or_else(|| Ok(Vec::new()))?;
        records
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a queued job was not answered".into()))
    }
    /// The owner's job submitted with this idempotency key.
    async fn job_by_idempotency_key(
        &self,
        owner_id: &str,
        key: &str,
    ) -> StoreResult<Option<JobRecord>>;
    /// Up to `limit` ids of jobs that ended before `before` (ms since epoch), oldest first.
    async fn jobs_ended_before(&self, before: i64, limit: i64) -> StoreResult<Vec<String>>;
    /// Inserts many queued jobs in one transaction: all of them or none.
    /// Several jobs submitted together take no idempotency keys.
    async fn create_jobs(&self, jobs: Vec<NewJob>) -> StoreResult<Vec<JobRecord>> {
        let mut answers = self.create_job_groups(vec![jobs]).await?;
        let records = answers.pop().unwrap_or_else(|| Ok(Vec::new()))?;
        Ok(records.into_iter().map(|(record, _)| record).collect())
    }
    async fn get_job(&self, id: &str) -> StoreResult<Option<JobRecord>>;
    /// Newest first.
    async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRecord>>;
    /// Takes up to `request.limit` runnable jobs, each under a new lease of
    /// its own, in one transaction: each the oldest job of the owner with
    /// the fewest running jobs, passing over owners at the cap.
    async fn claim_jobs(&self, request: &ClaimRequest) -> StoreResult<Vec<ClaimedJob>>;
    /// Renews many leases in one transaction, recording the progress those
    /// that carry some report; one answer per renewal, in order.
    async fn renew_leases(
        &self,
        renewals: &[LeaseRenewal],
        lease_ttl_ms: i64,
    ) -> StoreResult<Vec<Heartbeat>>;
    /// Ends workers' holds on jobs in one transaction; one answer per end,
    /// in order: false when its lease was lost (nothing written for it, the
    /// rest committed).
    async fn finish_jobs(&self, ends: Vec<JobEnd>) -> StoreResult<Vec<bool>>;

    /// One job, as [`Store::claim_jobs`] takes them.
    async fn claim_job(
        &self,
        worker_id: &str,
        pipelines: &[String],
        lease_ttl_ms: i64,
        max_running_per_owner: Option<i64>,
    ) -> StoreResult<Option<ClaimedJob>> {
        let request = ClaimRequest {
            worker_id: worker_id.to_owned(),
            pipelines: pipelines.to_vec(),
            lease_ttl_ms,
            max_running_per_owner,
            limit: 1,
        };
        Ok(self.claim_jobs(&request).await?.pop())
    }
    /// Renews one lease and, when given, records progress and stage.
    async fn heartbeat(
        &self,
        job_id: &str,
        lease: &LeaseToken,
        lease_ttl_ms: i64,
        progress: Option<(f64, Option<String>)>,
    ) -> StoreResult<Heartbeat> {
        let renewal = LeaseRenewal {
            job_id: job_id.to_owned(),
            lease: lease.clone(),
            progress,
        };
        let answers = self.renew_leases(&[renewal], lease_ttl_ms).await?;
        Ok(answers.first().copied().unwrap_or(Heartbeat::LeaseLost))
    }
    /// Ends one hold; false when the lease was lost (nothing written).
    async fn finish_job(
        &self,
        job_id: &str,
        lease: &LeaseToken,
        outcome: Outcome,
    ) -> StoreResult<bool> {
        let end = JobEnd {
            job_id: job_id.to_owned(),
            lease: lease.clone(),
            outcome,
            last_progress: None,
        };
        Ok(self.finish_jobs(vec![end]).await?.first() == Some(&true))
    }
    /// Cancels a waiting job at once, or flags a running one for its worker.
    /// Returns the job as it is afterwards, or `None` if there is no such job.
    async fn request_cancel(&self, job_id: &str) -> StoreResult<Option<JobRecord>>;
    /// Requeues (or fails, when out of attempts) running jobs whose lease expired.
    /// Returns the ids of the jobs it touched.
    async fn reap_expired_leases(&self) -> StoreResult<Vec<String>>;
    /// Deletes a job with its events and artifact records.
    async fn delete_job(&self, job_id: &str) -> StoreResult<()>;
    async fn count_jobs(&self) -> StoreResult<Vec<JobCount>>;

    // Events.
    async fn events_after(
        &self,
        job_id: &str,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobEvent>>;

    // Artifacts.
    /// Records an artifact under the worker's lease; false when the lease was lost.
    async fn put_artifact(
        &self,
        artifact: &ArtifactRecord,
        lease: &LeaseToken,
    ) -> StoreResult<bool>;
    async fn list_artifacts(&self, job_id: &str) -> StoreResult<Vec<ArtifactRecord>>;
    async fn get_artifact(&self, job_id: &str, name: &str) -> StoreResult<Option<ArtifactRecord>>;
    /// Removes the job's artifact records and returns them, so their blobs can go too.
    async fn take_artifacts(&self, job_id: &str) -> StoreResult<Vec<ArtifactRecord>>;

    // Workers and the queue, for operators.
    /// Records (or refreshes) a worker process's announcement.
    async fn announce_worker(&self, worker: &WorkerRecord) -> StoreResult<()>;
    /// Forgets a worker process that stopped.
    async fn forget_worker(&self, id: &str) -> StoreResult<()>;
    /// Worker processes seen at or after `since` (ms since epoch).
    async fn list_workers(&self, since: i64) -> StoreResult<Vec<WorkerRecord>>;
    /// Queued, retrying and running jobs by pipeline and state.
    async fn queue_stats(&self) -> StoreResult<Vec<QueueStat>>;
    /// Up to `limit` jobs that ended at or after `since` (ms), newest first.
    async fn ended_jobs_since(&self, since: i64, limit: i64) -> StoreResult<Vec<EndedJob>>;

    // Webhook endpoints.
    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    async fn list_webhooks(&self, owner_id: &str) -> StoreResult<Vec<WebhookEndpoint>>;
    async fn get_webhook(&self, id: &str) -> StoreResult<Option<WebhookEndpoint>>;
    /// Deletes one of the owner's endpoints; false when the owner has no such endpoint.
    async fn delete_webhook(&self, owner_id: &str, id: &str) -> StoreResult<bool>;
    /// Replaces the secret of one of the owner's endpoints; `None` when there is no such endpoint.
    async fn set_webhook_secret(
        &self,
        owner_id: &str,
        id: &str,
        secret: &str,
    ) -> StoreResult<Option<WebhookEndpoint>>;
    /// The secret that signs calls to the callback URLs of the owner's jobs;
    /// `candidate` becomes it when the owner has none yet.
    async fn callback_secret(&self, owner_id: &str, candidate: &str) -> StoreResult<String>;
    async fn set_callback_secret(&self, owner_id: &str, secret: &str) -> StoreResult<()>;
    /// Whether the user is mailed at the end of each of their jobs; `None`
    /// when there is no such user.
    async fn set_notify_by_email(&self, user_id: &str, on: bool)
        -> StoreResult<Option<UserRecord>>;

    // The outbox. Deliveries are written by the state changes they announce.
    /// Takes up to `limit` due deliveries (webhooks, and e-mail too when
    /// `with_email`), counting an attempt for each and holding them until
    /// `hold_until` so that other nodes leave them alone.
    async fn claim_deliveries(
        &self,
        limit: i64,
        hold_until: i64,
        with_email: bool,
    ) -> StoreResult<Vec<Delivery>>;
    /// Records an attempt and what follows it. When the delivery was claimed
    /// again meanwhile (its hold ran out) the attempt is kept but what
    /// follows it is not: false.
    async fn record_attempt(
        &self,
        attempt: &DeliveryAttempt,
        after: AfterAttempt,
    ) -> StoreResult<bool>;
    /// Queues a compatible API's own call at one of a job's ends; false
    /// when a callback with its id is queued already.
    async fn enqueue_callback(&self, callback: &CustomCallback) -> StoreResult<bool>;
    /// A job's deliveries, oldest first.
    async fn list_deliveries(&self, job_id: &str) -> StoreResult<Vec<Delivery>>;
    /// The newest `limit` deliveries of all jobs, newest first.
    async fn recent_deliveries(&self, limit: i64) -> StoreResult<Vec<Delivery>>;
    /// The attempts at all of a job's deliveries, in order.
    async fn list_attempts(&self, job_id: &str) -> StoreResult<Vec<DeliveryAttempt>>;
    /// Queues one of the job's deliveries that was delivered or given up
    /// again, due now and retried for as long as a new one; false when the
    /// job has no such delivery or it is still pending (a node may be sending it).
    async fn redeliver(&self, job_id: &str, delivery_id: &str) -> StoreResult<bool>;

    // Compatible APIs' own tables.
    /// Applies the steps of a compatible API's schema (those written for
    /// this store's database) that were not applied yet.
    async fn migrate_extension(&self, extension: &Extension) -> StoreResult<()>;
    /// The store's database, for a compatible API's queries on its own tables.
    fn extension_database(&self) -> ExtensionDatabase<'_>;
    /// The store's migrations and the extensions' steps applied, for a
    /// backup's manifest.
    async fn schema_versions(&self) -> StoreResult<SchemaVersions>;

    // Wake-ups.
    /// Wakes `wake`'s waiters whenever another process queues a job, until an
    /// error. Backends that cannot tell return at once; workers poll anyway.
    async fn watch_new_jobs(&self, _wake: Arc<Notify>) -> StoreResult<()> {
        Ok(())
    }
}
