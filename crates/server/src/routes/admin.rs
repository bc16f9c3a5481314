//! What operators look at: the worker processes and the queue.

use axum::extract::State;
use axum::Json;
use kinoflow_engine::store::now_ms;
use kinoflow_engine::ANNOUNCEMENT_TIMEOUT;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::views::rfc3339;

#[derive(Serialize, ToSchema)]
pub struct WorkerView {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub pipelines: Vec<String>,
    /// Jobs it runs at once.
    pub concurrency: i64,
    pub version: String,
    pub started_at: String,
    pub last_seen_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct WorkerList {
    pub workers: Vec<WorkerView>,
}

#[derive(Serialize, ToSchema)]
pub struct QueueEntry {
    pub pipeline: String,
    /// `queued`, `retrying` or `running`.
    pub state: String,
    pub count: i64,
    /// Age of the oldest of these jobs, seconds.
    pub oldest_age_s: f64,
}

#[derive(Serialize, ToSchema)]
pub struct QueueView {
    pub queue: Vec<QueueEntry>,
}

/// The worker processes that are alive.
#[utoipa::path(get, path = "/v1/admin/workers", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = WorkerList), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn list_workers(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<WorkerList>, ApiError> {
    let since = now_ms() - ANNOUNCEMENT_TIMEOUT.as_millis() as i64;
    let workers = state.engine.workers(since).await?;
    Ok(Json(WorkerList {
        workers: workers
            .into_iter()
            .map(|w| WorkerView {
                id: w.id,
                host: w.host,
                pid: w.pid,
                pipelines: w.pipelines,
                concurrency: w.concurrency,
                version: w.version,
                started_at: rfc3339(w.started_at),
                last_seen_at: rfc3339(w.last_seen_at),
            })
            .collect(),
    }))
}

/// Waiting and running jobs by pipeline and state, with the oldest one's age.
#[utoipa::path(get, path = "/v1/admin/queue", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = QueueView), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<QueueView>, ApiError> {
    let now = now_ms();
    let stats = state.engine.queue_stats().await?;
    Ok(Json(QueueView {
        queue: stats
            .into_iter()
            .map(|s| QueueEntry {
                pipeline: s.pipeline,
                state: s.state.as_str().to_owned(),
                count: s.count,
                oldest_age_s: (now - s.oldest_created_at).max(0) as f64 / 1000.0,
            })
            .collect(),
    }))
}
