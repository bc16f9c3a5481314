//! The JSON shapes the API answers with.

use kinoflow_engine::store::{ApiKeyRecord, ArtifactRecord, JobRecord, UploadRecord};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::AuthUser;

/// RFC 3339 from our millisecond timestamps.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    /// `user` or `admin`.
    pub role: String,
    /// Mailed at the end of each job that names no `notify_email` of its own.
    pub notify_by_email: bool,
    pub created_at: String,
}

impl From<&AuthUser> for UserView {
    fn from(user: &AuthUser) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            role: user.role.as_str().to_owned(),
            notify_by_email: user.notify_by_email,
            created_at: rfc3339(user.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<ApiKeyRecord> for ApiKeyView {
    fn from(key: ApiKeyRecord) -> Self {
        Self {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            created_at: rfc3339(key.created_at),
            revoked_at: key.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UploadView {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: String,
}

impl From<UploadRecord> for UploadView {
    fn from(upload: UploadRecord) -> Self {
        Self {
            id: upload.id,
            filename: upload.filename,
            content_type: upload.content_type,
            size: upload.size,
            sha256: upload.sha256,
            created_at: rfc3339(upload.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ArtifactView {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Where to download it (with the same credentials).
    pub url: String,
    pub created_at: String,
}

impl From<ArtifactRecord> for ArtifactView {
    fn from(artifact: ArtifactRecord) -> Self {
        Self {
            url: format!("/v1/jobs/{}/artifacts/{}", artifact.job_id, artifact.name),
            name: artifact.name,
            content_type: artifact.content_type,
            size: artifact.size,
            sha256: artifact.sha256,
            created_at: rfc3339(artifact.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    pub pipeline: String,
    /// `queued`, `running`, `retrying`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    /// 0 to 1.
    pub progress: f64,
    pub stage: Option<String>,
    /// How many times the job has started.
    pub attempts: i64,
    pub max_attempts: i64,
    pub upload_id: Option<String>,
    #[schema(value_type = Object)]
    pub params: Value,
    /// Why the job failed, or why the last attempt did.
    pub error: Option<String>,
    pub warnings: Vec<String>,
    /// The owner asked to cancel; the worker is stopping.
    pub cancel_requested: bool,
    /// Called when the job ends (see `/v1/jobs/{id}/deliveries`).
    pub callback_url: Option<String>,
    /// Mailed when the job succeeds or fails.
    pub notify_email: Option<String>,
    /// When a retrying job runs again.
    pub retry_at: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub updated_at: String,
    /// Present on a single job's view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<ArtifactView>>,
}

impl JobView {
    pub fn new(job: JobRecord, artifacts: Option<Vec<ArtifactRecord>>) -> Self {
        Self {
            retry_at: (job.state == kinoflow_engine::store::JobState::Retrying)
                .then(|| rfc3339(job.run_after)),
            id: job.id,
            pipeline: job.pipeline,
            state: job.state.as_str().to_owned(),
            progress: job.progress,
            stage: job.stage,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            upload_id: job.upload_id,
            params: job.params,
            error: job.error,
            warnings: job.warnings,
            cancel_requested: job.cancel_requested,
            callback_url: job.notices.callback_url,
            notify_email: job.notices.email,
            created_at: rfc3339(job.created_at),
            started_at: job.started_at.map(rfc3339),
            finished_at: job.finished_at.map(rfc3339),
            updated_at: rfc3339(job.updated_at),
            artifacts: artifacts.map(|list| list.into_iter().map(ArtifactView::from).collect()),
        }
    }
}
