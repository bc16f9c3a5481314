//! A job's deliveries: each webhook call and e-mail its events caused, with
//! every attempt, and a way to send one again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kinoflow_engine::store::{Delivery, DeliveryAttempt, DeliveryState};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::shared::visible_job;
use crate::state::AppState;
use crate::views::rfc3339;

#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    /// Also the `webhook-id` header, the same on every attempt.
    pub id: String,
    pub event: String,
    /// `webhook` or `email`.
    pub channel: String,
    /// The URL called or the address mailed.
    pub target: String,
    /// The endpoint it was made for; absent for the job's own callback URL and for e-mail.
    pub endpoint_id: Option<String>,
    /// `pending`, `delivered` or `failed` (retried until its window closed).
    pub state: String,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub attempts: Vec<AttemptView>,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    /// 1 for the first.
    pub attempt: i64,
    pub at: String,
    pub duration_ms: i64,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<i64>,
    pub succeeded: bool,
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

impl DeliveryView {
    fn new(delivery: Delivery, attempts: &[DeliveryAttempt]) -> Self {
        let pending = delivery.state == DeliveryState::Pending;
        Self {
            attempts: attempts
                .iter()
                .filter(|a| a.delivery_id == delivery.id)
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    at: rfc3339(a.started_at),
                    duration_ms: a.duration_ms,
                    status_code: a.status_code,
                    succeeded: a.succeeded,
                    error: a.error.clone(),
                })
                .collect(),
            id: delivery.id,
            event: delivery.event,
            channel: delivery.channel.as_str().to_owned(),
            target: delivery.target,
            endpoint_id: delivery.endpoint_id,
            state: delivery.state.as_str().to_owned(),
            next_attempt_at: pending.then(|| rfc3339(delivery.next_attempt_at)),
            created_at: rfc3339(delivery.created_at),
        }
    }
}

/// The job's deliveries, oldest first, each with its attempts.
#[utoipa::path(get, path = "/v1/jobs/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = DeliveryList), (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<DeliveryList>, ApiError> {
    let job = visible_job(&state, &user, &id).await?;
    let deliveries = state.store.list_deliveries(&job.id).await?;
    let attempts = state.store.list_attempts(&job.id).await?;
    Ok(Json(DeliveryList {
        deliveries: deliveries
            .into_iter()
            .map(|delivery| DeliveryView::new(delivery, &attempts))
            .collect(),
    }))
}

/// Sends a delivered or failed delivery again now (with the same id),
/// retrying it for another 24 h. A pending one is sent already: 409.
#[utoipa::path(post, path = "/v1/jobs/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id"),
           ("delivery_id" = String, Path, description = "Delivery id")),
    responses((status = 202, description = "Queued"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    redeliver_one(&state, &user, &id, &delivery_id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Queues a delivered or failed delivery of a job the user may see again;
/// 409 for one still pending.
pub async fn redeliver_one(
    state: &AppState,
    user: &AuthUser,
    job_id: &str,
    delivery_id: &str,
) -> Result<(), ApiError> {
    let job = visible_job(state, user, job_id).await?;
    if state.store.redeliver(&job.id, delivery_id).await? {
        return Ok(());
    }
    let deliveries = state.store.list_deliveries(&job.id).await?;
    match deliveries.iter().find(|d| d.id == delivery_id) {
        None => Err(ApiError::not_found("delivery")),
        Some(pending) => Err(ApiError::conflict(format!(
            "the delivery is still pending: its next attempt is due at {}",
            rfc3339(pending.next_attempt_at)
        ))),
    }
}
