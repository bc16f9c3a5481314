//! Reading records out of database rows, the same way for every backend.
//! Statements select whole rows (`*`); each mapping reads the columns its
//! record has, by name.

use serde_json::{json, Value};

use crate::error::StoreError;
use crate::model::*;
use crate::repository::StoreResult;
use crate::sql::StoredRow;

/// A job state read back from the database.
pub(crate) fn job_state(text: &str) -> StoreResult<JobState> {
    JobState::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown job state {text:?}")))
}

pub(crate) fn job_count_from_row(row: &impl StoredRow) -> StoreResult<JobCount> {
    Ok(JobCount {
        pipeline: row.text("pipeline")?,
        state: job_state(&row.text("state")?)?,
        count: row.int("n")?,
    })
}

pub(crate) fn job_from_row(row: &impl StoredRow) -> StoreResult<JobRecord> {
    let state = row.text("state")?;
    let params = row.text("params")?;
    let warnings = row.text("warnings")?;
    Ok(JobRecord {
        id: row.text("id")?,
        owner_id: row.text("owner_id")?,
        pipeline: row.text("pipeline")?,
        upload_id: row.opt_text("upload_id")?,
        params: serde_json::from_str(&params).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        state: job_state(&state)?,
        progress: row.float("progress")?,
        stage: row.opt_text("stage")?,
        attempts: row.int("attempts")?,
        max_attempts: row.int("max_attempts")?,
        run_after: row.int("run_after")?,
        lease_expires_at: row.opt_int("lease_expires_at")?,
        worker_id: row.opt_text("worker_id")?,
        cancel_requested: row.int("cancel_requested")? != 0,
        error: row.opt_text("error")?,
        warnings: serde_json::from_str(&warnings)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        idempotency_key: row.opt_text("idempotency_key")?,
        notices: JobNotices {
            callback_url: row.opt_text("callback_url")?,
            email: row.opt_text("notify_email")?,
        },
        created_at: row.int("created_at")?,
        started_at: row.opt_int("started_at")?,
        finished_at: row.opt_int("finished_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn user_from_row(row: &impl StoredRow) -> StoreResult<UserRecord> {
    let role = row.text("role")?;
    Ok(UserRecord {
        id: row.text("id")?,
        email: row.text("email")?,
        password_hash: row.text("password_hash")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
        notify_by_email: row.int("notify_by_email")? != 0,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn api_key_from_row(row: &impl StoredRow) -> StoreResult<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        created_at: row.int("created_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

pub(crate) fn upload_from_row(row: &impl StoredRow) -> StoreResult<UploadRecord> {
    Ok(UploadRecord {
        id: row.text("id")?,
        owner_id: row.text("owner_id")?,
        filename: row.text("filename")?,
        content_type: row.text("content_type")?,
        size: row.int("size")?,
        sha256: row.text("sha256")?,
        blob_key: row.text("blob_key")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn artifact_from_row(row: &impl StoredRow) -> StoreResult<ArtifactRecord> {
    Ok(ArtifactRecord {
        job_id: row.text("job_id")?,
        name: row.text("name")?,
        blob_key: row.text("blob_key")?,
        content_type: row.text("content_type")?,
        size: row.int("size")?,
        sha256: row.text("sha256")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn event_from_row(row: &impl StoredRow) -> StoreResult<JobEvent> {
    let data = row.text("data")?;
    Ok(JobEvent {
        id: row.int("id")?,
        job_id: row.text("job_id")?,
        kind: row.text("kind")?,
        data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: row.int("created_at")?,
    })
}

/// The event that records a job's state as it is now.
pub(crate) fn state_event(job: &JobRecord) -> Value {
    json!({
        "state": job.state.as_str(),
        "attempts": job.attempts,
        "error": job.error,
        "run_after": (job.state == JobState::Retrying).then_some(job.run_after),
    })
}

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

pub(crate) fn worker_from_row(row: &impl StoredRow) -> StoreResult<WorkerRecord> {
    let pipelines = row.text("pipelines")?;
    Ok(WorkerRecord {
        id: row.text("id")?,
        host: row.text("host")?,
        pid: row.int("pid")?,
        pipelines: serde_json::from_str(&pipelines)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        concurrency: row.int("concurrency")?,
        version: row.text("version")?,
        started_at: row.int("started_at")?,
        last_seen_at: row.int("last_seen_at")?,
    })
}

pub(crate) fn ended_job_from_row(row: &impl StoredRow) -> StoreResult<EndedJob> {
    let state = row.text("state")?;
    Ok(EndedJob {
        pipeline: row.text("pipeline")?,
        state: job_state(&state)?,
        started_at: row.opt_int("started_at")?,
        finished_at: row.int("finished_at")?,
    })
}

pub(crate) fn queue_stat_from_row(row: &impl StoredRow) -> StoreResult<QueueStat> {
    let state = row.text("state")?;
    Ok(QueueStat {
        pipeline: row.text("pipeline")?,
        state: job_state(&state)?,
        count: row.int("n")?,
        oldest_created_at: row.int("oldest")?,
    })
}

pub(crate) fn presigned_from_row(row: &impl StoredRow) -> StoreResult<PresignedUpload> {
    Ok(PresignedUpload {
        id: row.text("id")?,
        owner_id: row.text("owner_id")?,
        filename: row.text("filename")?,
        content_type: row.text("content_type")?,
        declared_size: row.int("declared_size")?,
        size_is_limit: row.int("size_is_limit")? != 0,
        blob_key: row.text("blob_key")?,
        expires_at: row.int("expires_at")?,
        received_key: row.opt_text("received_key")?,
        received_size: row.opt_int("received_size")?,
        received_sha256: row.opt_text("received_sha256")?,
        created_at: row.int("created_at")?,
        completed_at: row.opt_int("completed_at")?,
    })
}

pub(crate) fn webhook_from_row(row: &impl StoredRow) -> StoreResult<WebhookEndpoint> {
    let events = row.text("events")?;
    Ok(WebhookEndpoint {
        id: row.text("id")?,
        owner_id: row.text("owner_id")?,
        url: row.text("url")?,
        events: serde_json::from_str(&events).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        secret: row.text("secret")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn delivery_from_row(row: &impl StoredRow) -> StoreResult<Delivery> {
    let channel = row.text("channel")?;
    let state = row.text("state")?;
    Ok(Delivery {
        id: row.text("id")?,
        job_id: row.text("job_id")?,
        owner_id: row.text("owner_id")?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown channel {channel:?}")))?,
        target: row.text("target")?,
        endpoint_id: row.opt_text("endpoint_id")?,
        event: row.text("event")?,
        payload: row.text("payload")?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery state {state:?}")))?,
        attempts: row.int("attempts")?,
        next_attempt_at: row.int("next_attempt_at")?,
        give_up_at: row.int("give_up_at")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn attempt_from_row(row: &impl StoredRow) -> StoreResult<DeliveryAttempt> {
    Ok(DeliveryAttempt {
        delivery_id: row.text("delivery_id")?,
        attempt: row.int("attempt")?,
        started_at: row.int("started_at")?,
        duration_ms: row.int("duration_ms")?,
        status_code: row.opt_int("status_code")?,
        error: row.opt_text("error")?,
        succeeded: row.int("succeeded")? != 0,
    })
}
