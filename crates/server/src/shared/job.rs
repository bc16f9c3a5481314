//! The caller's job, or a 404 that confirms nothing about others' jobs.

use kinoflow_engine::store::JobRecord;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// A job the caller may see, or 404 (never 403: others' ids are not confirmed).
pub async fn visible_job(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<JobRecord, ApiError> {
    state
        .engine
        .job(id)
        .await?
        .filter(|job| user.may_see(&job.owner_id))
        .ok_or_else(|| ApiError::not_found("job"))
}

/// The caller's job if it is one of `pipeline`; otherwise a 404 saying
/// `what` (the word the caller's API uses for such a job) was not found.
pub async fn pipeline_job(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    pipeline: &str,
    what: &str,
) -> Result<JobRecord, ApiError> {
    let job = visible_job(state, user, id).await?;
    if job.pipeline == pipeline {
        Ok(job)
    } else {
        Err(ApiError::not_found(what))
    }
}
