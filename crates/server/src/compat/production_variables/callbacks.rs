//! Calls back the URL that a training through the relevance service's API
//! named, once the training ends, with `{model_id, status, metrics}` as the
//! relevance service did. The call goes through the notification outbox: it
//! is retried with backoff, signed with the owner's callback secret, and an
//! internal address is refused unless the operator allows them.
//!
//! Every API node watches for ended trainings; the call's outbox id is made
//! from the job's, so that nodes that see the same end queue it once.

use std::time::Duration;

use kinoflow_engine::store::{CustomCallback, JobState};
use serde_json::json;

use super::ranking::job_metrics;
use super::records::{EndedTraining, Machines};
use crate::error::ApiError;
use crate::state::AppState;

/// How often ended trainings are looked for.
const POLL: Duration = Duration::from_secs(1);

/// Watches for ended trainings until the server shuts down. Call from
/// within the server's runtime.
pub fn announce_trainings(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let shutdown = state.shutdown.clone();
        loop {
            if let Err(e) = announce_ended(&state).await {
                tracing::warn!(error = %e.describe(), "could not announce ended trainings");
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.cancelled() => break,
            }
        }
    });
}

/// Queues the callback of each ended training that has none yet.
async fn announce_ended(state: &AppState) -> Result<(), ApiError> {
    let machines = Machines(state.store.as_ref());
    for training in machines.ended_unannounced().await? {
        state
            .store
            .enqueue_callback(&callback(state, &training).await?)
            .await?;
        machines.announced(training.id, &training.job_id).await?;
    }
    Ok(())
}

/// What the relevance service sent when a training ended: `completed` with
/// the metrics, or `failed` with none.
async fn callback(state: &AppState, training: &EndedTraining) -> Result<CustomCallback, ApiError> {
    let succeeded = training.state == JobState::Succeeded.as_str();
    let (status, metrics) = if succeeded {
        ("completed", job_metrics(state, &training.job_id).await?)
    } else {
        ("failed", None)
    };
    let payload = json!({"model_id": training.id, "status": status, "metrics": metrics});
    Ok(CustomCallback {
        id: format!("{}-trained", training.job_id),
        job_id: training.job_id.clone(),
        owner_id: training.owner_id.clone(),
        target: training.callback_url.clone(),
        event: format!("training.{status}"),
        payload: payload.to_string(),
    })
}
