//! The store on a SQL database: [`Store`] implemented once for every
//! [`Dialect`], each method handed to the module that keeps its records.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{Database, Pool};
use tokio::sync::Notify;

use crate::backup::{self, SchemaVersions};
use crate::dialect::Dialect;
use crate::extension::{self, Extension, ExtensionDatabase};
use crate::model::*;
use crate::repository::{Store, StoreResult};
use crate::{artifacts, jobs, leases, notifications, uploads, users, workers};

/// The store on a pool of database `DB`: [`crate::SqliteStore`] or
/// [`crate::PostgresStore`].
pub struct SqlStore<DB: Database> {
    pub(crate) pool: Pool<DB>,
}

// Not derived: deriving would ask for `DB: Clone`, and the pool is what is shared.
impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
        }
    }
}

impl<DB: Database> SqlStore<DB> {
    /// Closes every connection of the store (those of its clones too): a
    /// SQLite file may be replaced once this returns.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl<DB: Dialect> Store for SqlStore<DB> {
    async fn ping(&self) -> StoreResult<()> {
        crate::sql::sql("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
    ) -> StoreResult<UserRecord> {
        users::create_user(&self.pool, email, password_hash, role).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        users::user_by_email(&self.pool, email).await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        users::user_by_id(&self.pool, id).await
    }

    async fn create_api_key(
        &self,
        user_id: &str,
        name: &str,
        prefix: &str,
        key_hash: &str,
    ) -> StoreResult<ApiKeyRecord> {
        users::create_api_key(&self.pool, user_id, name, prefix, key_hash).await
    }

    async fn list_api_keys(&self, user_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
        users::list_api_keys(&self.pool, user_id).await
    }

    async fn revoke_api_key(&self, user_id: &str, key_id: &str) -> StoreResult<bool> {
        users::revoke_api_key(&self.pool, user_id, key_id).await
    }

    async fn user_by_api_key_hash(&self, key_hash: &str) -> StoreResult<Option<UserRecord>> {
        users::user_by_api_key_hash(&self.pool, key_hash).await
    }

    async fn create_session(
        &self,
        id_hash: &str,
        user_id: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        users::create_session(&self.pool, id_hash, user_id, expires_at).await
    }

    async fn user_by_session_hash(&self, id_hash: &str) -> StoreResult<Option<UserRecord>> {
        users::user_by_session_hash(&self.pool, id_hash).await
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        users::delete_session(&self.pool, id_hash).await
    }

    async fn insert_upload(&self, upload: &UploadRecord) -> StoreResult<()> {
        uploads::insert_upload(&self.pool, upload).await
    }

    async fn get_upload(&self, id: &str) -> StoreResult<Option<UploadRecord>> {
        uploads::get_upload(&self.pool, id).await
    }

    async fn get_uploads(&self, ids: &[String]) -> StoreResult<Vec<UploadRecord>> {
        uploads::get_uploads(&self.pool, ids).await
    }

    async fn delete_upload(&self, id: &str) -> StoreResult<UploadRemoval> {
        uploads::delete_upload(&self.pool, id).await
    }

    async fn storage_used(&self, owner_id: &str) -> StoreResult<i64> {
        uploads::storage_used(&self.pool, owner_id).await
    }

    async fn unused_uploads_before(
        &self,
        before: i64,
        limit: i64,
    ) -> StoreResult<Vec<UploadRecord>> {
        uploads::unused_uploads_before(&self.pool, before, limit).await
    }

    async fn insert_presigned_upload(&self, upload: &PresignedUpload) -> StoreResult<()> {
        uploads::insert_presigned_upload(&self.pool, upload).await
    }

    async fn get_presigned_upload(&self, id: &str) -> StoreResult<Option<PresignedUpload>> {
        uploads::get_presigned_upload(&self.pool, id).await
    }

    async fn record_presigned_content(
        &self,
        id: &str,
        key: &str,
        size: i64,
        sha256: &str,
    ) -> StoreResult<bool> {
        uploads::record_presigned_content(&self.pool, id, key, size, sha256).await
    }

    async fn complete_presigned_upload(&self, upload: &UploadRecord) -> StoreResult<bool> {
        uploads::complete_presigned_upload(&self.pool, upload).await
    }

    async fn expired_presigned_uploads(
        &self,
        before_s: i64,
        limit: i64,
    ) -> StoreResult<Vec<PresignedUpload>> {
        uploads::expired_presigned_uploads(&self.pool, before_s, limit).await
    }

    async fn delete_presigned_upload(&self, id: &str) -> StoreResult<()> {
        uploads::delete_presigned_upload(&self.pool, id).await
    }

    async fn create_job_groups(
        &self,
        groups: Vec<Vec<NewJob>>,
    ) -> StoreResult<Vec<StoreResult<Vec<(JobRecord, bool)>>>> {
        jobs::create_groups(&self.pool, groups).await
    }

    async fn job_by_idempotency_key(
        &self,
        owner_id: &str,
        key: &str,
    ) -> StoreResult<Option<JobRecord>> {
        jobs::job_by_idempotency_key(&self.pool, owner_id, key).await
    }

    async fn jobs_ended_before(&self, before: i64, limit: i64) -> StoreResult<Vec<String>> {
        jobs::jobs_ended_before(&self.pool, before, limit).await
    }

    async fn get_job(&self, id: &str) -> StoreResult<Option<JobRecord>> {
        jobs::get_job(&self.pool, id).await
    }

    async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRecord>> {
        jobs::list_jobs(&self.pool, filter).await
    }

    async fn claim_jobs(&self, request: &ClaimRequest) -> StoreResult<Vec<ClaimedJob>> {
        leases::claim(&self.pool, request).await
    }

    async fn renew_leases(
        &self,
        renewals: &[LeaseRenewal],
        lease_ttl_ms: i64,
    ) -> StoreResult<Vec<Heartbeat>> {
        leases::renew(&self.pool, renewals, lease_ttl_ms).await
    }

    async fn finish_jobs(&self, ends: Vec<JobEnd>) -> StoreResult<Vec<bool>> {
        leases::finish(&self.pool, ends).await
    }

    async fn request_cancel(&self, job_id: &str) -> StoreResult<Option<JobRecord>> {
        leases::cancel(&self.pool, job_id).await
    }

    async fn reap_expired_leases(&self) -> StoreResult<Vec<String>> {
        leases::requeue_expired(&self.pool).await
    }

    async fn delete_job(&self, job_id: &str) -> StoreResult<()> {
        jobs::delete_job(&self.pool, job_id).await
    }

    async fn count_jobs(&self) -> StoreResult<Vec<JobCount>> {
        jobs::count_jobs(&self.pool).await
    }

    async fn events_after(
        &self,
        job_id: &str,
        after_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobEvent>> {
        jobs::events_after(&self.pool, job_id, after_id, limit).await
    }

    async fn put_artifact(
        &self,
        artifact: &ArtifactRecord,
        lease: &LeaseToken,
    ) -> StoreResult<bool> {
        artifacts::put_artifact(&self.pool, artifact, lease).await
    }

    async fn list_artifacts(&self, job_id: &str) -> StoreResult<Vec<ArtifactRecord>> {
        artifacts::list_artifacts(&self.pool, job_id).await
    }

    async fn get_artifact(&self, job_id: &str, name: &str) -> StoreResult<Option<ArtifactRecord>> {
        artifacts::get_artifact(&self.pool, job_id, name).await
    }

    async fn take_artifacts(&self, job_id: &str) -> StoreResult<Vec<ArtifactRecord>> {
        artifacts::take_artifacts(&self.pool, job_id).await
    }

    async fn announce_worker(&self, worker: &WorkerRecord) -> StoreResult<()> {
        workers::announce_worker(&self.pool, worker).await
    }

    async fn forget_worker(&self, id: &str) -> StoreResult<()> {
        workers::forget_worker(&self.pool, id).await
    }

    async fn list_workers(&self, since: i64) -> StoreResult<Vec<WorkerRecord>> {
        workers::list_workers(&self.pool, since).await
    }

    async fn queue_stats(&self) -> StoreResult<Vec<QueueStat>> {
        jobs::queue_stats(&self.pool).await
    }

    async fn ended_jobs_since(&self, since: i64, limit: i64) -> StoreResult<Vec<EndedJob>> {
        jobs::ended_jobs_since(&self.pool, since, limit).await
    }

    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> StoreResult<()> {
        notifications::create_webhook(&self.pool, endpoint).await
    }

    async fn list_webhooks(&self, owner_id: &str) -> StoreResult<Vec<WebhookEndpoint>> {
        notifications::list_webhooks(&self.pool, owner_id).await
    }

    async fn get_webhook(&self, id: &str) -> StoreResult<Option<WebhookEndpoint>> {
        notifications::get_webhook(&self.pool, id).await
    }

    async fn delete_webhook(&self, owner_id: &str, id: &str) -> StoreResult<bool> {
        notifications::delete_webhook(&self.pool, owner_id, id).await
    }

    async fn set_webhook_secret(
        &self,
        owner_id: &str,
        id: &str,
        secret: &str,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        notifications::set_webhook_secret(&self.pool, owner_id, id, secret).await
    }

    async fn callback_secret(&self, owner_id: &str, candidate: &str) -> StoreResult<String> {
        notifications::callback_secret(&self.pool, owner_id, candidate).await
    }

    async fn set_callback_secret(&self, owner_id: &str, secret: &str) -> StoreResult<()> {
        notifications::set_callback_secret(&self.pool, owner_id, secret).await
    }

    async fn set_notify_by_email(
        &self,
        user_id: &str,
        on: bool,
    ) -> StoreResult<Option<UserRecord>> {
        users::set_notify_by_email(&self.pool, user_id, on).await
    }

    async fn claim_deliveries(
        &self,
        limit: i64,
        hold_until: i64,
        with_email: bool,
    ) -> StoreResult<Vec<Delivery>> {
        notifications::claim_deliveries(&self.pool, limit, hold_until, with_email).await
    }

    async fn enqueue_callback(&self, callback: &CustomCallback) -> StoreResult<bool> {
        notifications::enqueue_callback(&self.pool, callback).await
    }

    async fn record_attempt(
        &self,
        attempt: &DeliveryAttempt,
        after: AfterAttempt,
    ) -> StoreResult<bool> {
        notifications::record_attempt(&self.pool, attempt, after).await
    }

    async fn list_deliveries(&self, job_id: &str) -> StoreResult<Vec<Delivery>> {
        notifications::list_deliveries(&self.pool, job_id).await
    }

    async fn recent_deliveries(&self, limit: i64) -> StoreResult<Vec<Delivery>> {
        notifications::recent_deliveries(&self.pool, limit).await
    }

    async fn list_attempts(&self, job_id: &str) -> StoreResult<Vec<DeliveryAttempt>> {
        notifications::list_attempts(&self.pool, job_id).await
    }

    async fn redeliver(&self, job_id: &str, delivery_id: &str) -> StoreResult<bool> {
        notifications::redeliver(&self.pool, job_id, delivery_id).await
    }

    async fn migrate_extension(&self, extension: &Extension) -> StoreResult<()> {
        extension::migrate(&self.pool, extension.name, DB::extension_steps(extension)).await
    }

    fn extension_database(&self) -> ExtensionDatabase<'_> {
        DB::extension_database(&self.pool)
    }

    async fn schema_versions(&self) -> StoreResult<SchemaVersions> {
        backup::schema_versions(&self.pool).await
    }

    async fn watch_new_jobs(&self, wake: Arc<Notify>) -> StoreResult<()> {
        DB::watch_new_jobs(&self.pool, wake).await
    }
}
