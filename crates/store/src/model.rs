//! The records the store keeps, as the rest of kinoflow sees them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Where a job is in its life. `Retrying` is a queued job that waits for its
/// `run_after` after a transient failure or a lost worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Retrying,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Retrying,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Retrying => "retrying",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// A terminal job never changes state again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

/// A user's role: admins may use the admin routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    /// Mail the user at the end of each of their jobs that names no address of its own.
    pub notify_by_email: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters of the key, shown in listings so a user can tell keys apart.
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A file a user uploaded, as stored in the blob store.
#[derive(Debug, Clone)]
pub struct UploadRecord {
    pub id: String,
    pub owner_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub blob_key: String,
    pub created_at: i64,
}

/// A job as submitted, before the store gives it an id and a state.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub owner_id: String,
    pub pipeline: String,
    pub upload_id: Option<String>,
    pub params: Value,
    /// Uploads the parameters name besides the input, kept while the job lives.
    pub references: Vec<String>,
    pub max_attempts: i64,
    pub idempotency_key: Option<String>,
    /// Where to announce the job's end: a URL to call and an address to mail.
    pub notices: JobNotices,
}

impl NewJob {
    /// What an idempotency key stands for: a hash of the submission
    /// (pipeline, input, parameters, notices). Object keys are hashed in
    /// sorted order, so the order a client wrote them in does not matter.
    pub fn fingerprint(&self) -> String {
        let canonical = json!({
            "pipeline": self.pipeline,
            "upload_id": self.upload_id,
            "params": self.params,
            "callback_url": self.notices.callback_url,
            "notify_email": self.notices.email,
        });
        hex::encode(Sha256::digest(canonical.to_string()))
    }
}

/// Who hears of a job's end besides its owner's webhook endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobNotices {
    /// Called with the job's terminal event, signed with the owner's callback secret.
    pub callback_url: Option<String>,
    /// Mailed when the job succeeds (with a download link) or fails.
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: String,
    pub owner_id: String,
    pub pipeline: String,
    pub upload_id: Option<String>,
    pub params: Value,
    pub state: JobState,
    pub progress: f64,
    pub stage: Option<String>,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: i64,
    pub lease_expires_at: Option<i64>,
    pub worker_id: Option<String>,
    pub cancel_requested: bool,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub idempotency_key: Option<String>,
    pub notices: JobNotices,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
}

/// Which jobs a listing asks for; `before` is the pagination cursor (a job id).
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub owner_id: Option<String>,
    pub state: Option<JobState>,
    pub pipeline: Option<String>,
    pub before: Option<String>,
    /// Only jobs made at or after this time (ms since the epoch).
    pub created_from: Option<i64>,
    /// Only jobs made before this time (ms since the epoch).
    pub created_until: Option<i64>,
    /// Only jobs whose parameters, pipeline or input file name hold this
    /// text (case-insensitive).
    pub search: Option<String>,
    pub limit: i64,
}

/// A job that ended, as the operations page counts it.
#[derive(Debug, Clone)]
pub struct EndedJob {
    pub pipeline: String,
    pub state: JobState,
    pub started_at: Option<i64>,
    pub finished_at: i64,
}

/// The proof that a worker holds a job: every write it makes for the job
/// carries it, and a worker whose lease was taken over is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseToken(pub String);

/// A job handed to a worker together with its lease.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job: JobRecord,
    pub lease: LeaseToken,
}

/// What a claim asks for: up to `limit` runnable jobs of `pipelines`,
/// taken for `worker_id` under leases of `lease_ttl_ms`, passing over owners
/// who have `max_running_per_owner` running.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub worker_id: String,
    pub pipelines: Vec<String>,
    pub lease_ttl_ms: i64,
    pub max_running_per_owner: Option<i64>,
    pub limit: usize,
}

/// A lease a worker holds and renews, with the progress to record when the
/// run reported some since the last renewal.
#[derive(Debug, Clone)]
pub struct LeaseRenewal {
    pub job_id: String,
    pub lease: LeaseToken,
    pub progress: Option<(f64, Option<String>)>,
}

/// How a worker's hold on one job ends: its outcome and, when the run
/// reported progress that was not recorded yet, that progress.
#[derive(Debug, Clone)]
pub struct JobEnd {
    pub job_id: String,
    pub lease: LeaseToken,
    pub outcome: Outcome,
    pub last_progress: Option<(f64, Option<String>)>,
}

/// What a heartbeat learns about the job it renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    /// The lease is renewed; go on.
    Renewed,
    /// The lease is renewed but the owner asked to cancel.
    CancelRequested,
    /// Another worker owns the job now (or it ended): stop and write nothing.
    LeaseLost,
}

/// How a worker ends its hold on a job.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded {
        warnings: Vec<String>,
    },
    Failed {
        error: String,
    },
    /// A transient failure: run again after `run_after` (ms since epoch).
    Retry {
        error: String,
        run_after: i64,
    },
    Cancelled,
    /// The worker is shutting down: give the job back untouched, this attempt not counted.
    Released,
}

/// A row of a job's history; `id` orders events and resumes a stream.
#[derive(Debug, Clone)]
pub struct JobEvent {
    pub id: i64,
    pub job_id: String,
    pub kind: String,
    pub data: Value,
    pub created_at: i64,
}

/// A file a job produced.
#[derive(Debug, Clone)]
pub struct ArtifactRecord {
    pub job_id: String,
    pub name: String,
    pub blob_key: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

/// How many jobs of one pipeline are in one state.
#[derive(Debug, Clone)]
pub struct JobCount {
    pub pipeline: String,
    pub state: JobState,
    pub count: i64,
}

/// A process that runs workers, as it last announced itself.
#[derive(Debug, Clone)]
pub struct WorkerRecord {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub pipelines: Vec<String>,
    pub concurrency: i64,
    pub version: String,
    pub started_at: i64,
    pub last_seen_at: i64,
}

/// Jobs of one pipeline in one waiting or running state, and the oldest one's age.
#[derive(Debug, Clone)]
pub struct QueueStat {
    pub pipeline: String,
    pub state: JobState,
    pub count: i64,
    /// When the oldest of these jobs was created.
    pub oldest_created_at: i64,
}

/// An upload a client sends straight to storage with a presigned URL.
#[derive(Debug, Clone)]
pub struct PresignedUpload {
    pub id: String,
    pub owner_id: String,
    pub filename: String,
    pub content_type: String,
    /// The file's exact size, or with `size_is_limit` the most it may be.
    pub declared_size: i64,
    pub size_is_limit: bool,
    pub blob_key: String,
    pub expires_at: i64,
    /// What arrived, once the client has sent it through kinoflow (a PUT
    /// straight to object storage leaves these empty): the object the last
    /// PUT wrote, its size and its sha256.
    pub received_key: Option<String>,
    pub received_size: Option<i64>,
    pub received_sha256: Option<String>,
    pub created_at: i64,
    /// When it became an upload. The row stays until it expires.
    pub completed_at: Option<i64>,
}

/// What asking to delete an upload did.
#[derive(Debug, Clone)]
pub enum UploadRemoval {
    /// The record is gone (ended jobs that used it no longer name it); its
    /// blob is the caller's to delete.
    Removed(UploadRecord),
    /// A job that has not ended uses it: nothing was deleted.
    InUse,
    /// There is no such upload.
    Missing,
}

/// The events a webhook endpoint may subscribe to.
pub const WEBHOOK_EVENTS: [&str; 4] = [
    "job.succeeded",
    "job.failed",
    "job.cancelled",
    "job.progress",
];

/// A URL a user registered to hear of their jobs' events.
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub id: String,
    pub owner_id: String,
    pub url: String,
    /// Some of [`WEBHOOK_EVENTS`].
    pub events: Vec<String>,
    /// `whsec_…`: signs every delivery to this endpoint.
    pub secret: String,
    pub created_at: i64,
}

/// How a delivery reaches its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Webhook,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "webhook" => Some(Channel::Webhook),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// Where a delivery is: waiting for its (next) attempt, or done one way or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Retried until its window closed (or its endpoint went) without success.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        match s {
            "pending" => Some(DeliveryState::Pending),
            "delivered" => Some(DeliveryState::Delivered),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// One announcement in the outbox: an event of one job for one target.
/// Its id is the same on every attempt, so receivers can drop repeats.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub job_id: String,
    pub owner_id: String,
    pub channel: Channel,
    /// A URL or an e-mail address.
    pub target: String,
    /// The endpoint it was made for; `None` for a job's own callback URL and for e-mail.
    pub endpoint_id: Option<String>,
    pub event: String,
    /// The body sent, fixed when the event happened.
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// After this, a failed attempt is the last.
    pub give_up_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A call of a compatible API's own at one of a job's ends: a body of its
/// own sent to a URL through the outbox, retried and signed as the job's
/// own callback is (with its owner's callback secret).
#[derive(Debug, Clone)]
pub struct CustomCallback {
    /// The same for every node that announces the same end, so that it is
    /// queued once.
    pub id: String,
    pub job_id: String,
    pub owner_id: String,
    pub target: String,
    pub event: String,
    /// The JSON sent.
    pub payload: String,
}

/// One try at a delivery, as it went.
#[derive(Debug, Clone)]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    /// 1 for the first try.
    pub attempt: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    /// The receiver's HTTP status, for webhooks that got an answer.
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub succeeded: bool,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    /// Try again at this time (ms since epoch).
    RetryAt(i64),
    GiveUp,
}

/// What a webhook or an e-mail says of one event of a job, in the Standard
/// Webhooks shape `{type, timestamp, data}`. The store writes it into the
/// outbox when the event happens ([`Delivery::payload`] is its JSON, sent
/// as it is and signed); the mailer reads it back with [`JobAnnouncement::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobAnnouncement {
    /// One of [`WEBHOOK_EVENTS`].
    #[serde(rename = "type")]
    pub event: String,
    /// When it was announced, RFC 3339 with milliseconds.
    pub timestamp: String,
    pub data: AnnouncedJob,
}

/// The job as an announcement shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnouncedJob {
    pub id: String,
    pub pipeline: String,
    pub state: JobState,
    pub progress: f64,
    pub stage: Option<String>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
}

impl JobAnnouncement {
    /// Announces `event` of the job as it is now.
    pub fn new(event: &str, job: &JobRecord) -> Self {
        Self {
            event: event.to_owned(),
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            data: AnnouncedJob {
                id: job.id.clone(),
                pipeline: job.pipeline.clone(),
                state: job.state,
                progress: job.progress,
                stage: job.stage.clone(),
                error: job.error.clone(),
                warnings: job.warnings.clone(),
            },
        }
    }

    /// Reads an announcement back from a delivery's payload.
    pub fn parse(payload: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(payload)
    }

    /// The JSON a delivery sends.
    pub fn to_payload(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}
