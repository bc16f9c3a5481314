//! The original frame-extraction service's API, at its own paths, over
//! kinoflow's `frames` pipeline: a "video" there is a `frames` job here, its
//! id the job's id. Accounts and tokens are kinoflow's own (`POST /users/`
//! and `POST /auth/token` are the `/v1` handlers at the old paths). As the
//! original did, the owner is mailed a download link when a video is done,
//! when the server has an SMTP server to send through.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use kinoflow_engine::store::{JobFilter, JobRecord, JobState};
use kinoflow_engine::Submission;
use serde::Serialize;
use serde_json::json;

use super::CompatError;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::notices::mail_owner;
use crate::routes::artifacts::serve_artifact;
use crate::shared::{visible_job, FileForm};
use crate::state::AppState;
use crate::views::rfc3339;

const PIPELINE: &str = "frames";
/// The original's default: one frame a second.
const DEFAULT_INTERVAL_S: f64 = 1.0;
/// The most videos `GET /videos/status` lists, newest first.
const MAX_LISTED: i64 = 200;

/// A video as the original service described it.
#[derive(Serialize)]
pub struct VideoView {
    pub id: String,
    pub filename: String,
    /// `PENDING`, `PROCESSING`, `COMPLETED` or `FAILED`.
    pub status: &'static str,
    pub created_at: String,
}

/// `POST /videos/upload`: multipart `file` and optional `interval` (seconds);
/// starts a `frames` job and answers the video record.
pub async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    request: Request,
) -> Result<(StatusCode, Json<VideoView>), CompatError> {
    let mut form = FileForm::from_request(&state, &user, request, &["interval"]).await?;
    let started = start_video(&state, &user, &mut form).await;
    form.keep_if(&state, started.is_ok()).await;
    Ok((StatusCode::CREATED, Json(started?)))
}

/// Queues the `frames` job of an uploaded video.
async fn start_video(
    state: &AppState,
    user: &AuthUser,
    form: &mut FileForm,
) -> Result<VideoView, ApiError> {
    let interval = form
        .take_text("interval")
        .map(|text| parse_interval(&text))
        .transpose()?;
    let upload = form.required_upload()?;
    let (job, _) = state
        .engine
        .submit(Submission {
            owner_id: user.id.clone(),
            pipeline: PIPELINE.to_owned(),
            upload_id: Some(upload.id.clone()),
            params: json!({ "interval_s": interval.unwrap_or(DEFAULT_INTERVAL_S) }),
            idempotency_key: None,
            notices: mail_owner(state, user),
        })
        .await?;
    Ok(video_view(&job, upload.filename.clone()))
}

fn parse_interval(text: &str) -> Result<f64, ApiError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .ok_or_else(|| {
            ApiError::unprocessable(format!(
                "interval must be a number of seconds above 0, not {text:?}"
            ))
        })
}

/// `GET /videos/status`: the caller's videos, newest first.
pub async fn status(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<VideoView>>, CompatError> {
    let jobs = state
        .engine
        .store
        .list_jobs(&JobFilter {
            owner_id: Some(user.id.clone()),
            state: None,
            pipeline: Some(PIPELINE.to_owned()),
            before: None,
            limit: MAX_LISTED,
        })
        .await
        .map_err(ApiError::from)?;
    let mut videos = Vec::with_capacity(jobs.len());
    for job in jobs {
        let filename = match &job.upload_id {
            Some(id) => state
                .engine
                .store
                .get_upload(id)
                .await
                .map_err(ApiError::from)?
                .map(|upload| upload.filename),
            None => None,
        };
        videos.push(video_view(&job, filename.unwrap_or_default()));
    }
    Ok(Json(videos))
}

/// `GET /videos/download/{video_id}`: the frames ZIP of a completed video.
pub async fn download(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, CompatError> {
    let job = visible_job(&state, &user, &id).await?;
    if job.pipeline != PIPELINE {
        return Err(ApiError::not_found("video").into());
    }
    if job.state != JobState::Succeeded {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_ready",
            format!(
                "the video's frames are not ready ({})",
                status_of(job.state)
            ),
        )
        .into());
    }
    let artifact = state
        .engine
        .store
        .get_artifact(&job.id, "frames.zip")
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::not_found("frames.zip"))?;
    Ok(serve_artifact(&state, &artifact, headers.get(header::RANGE)).await?)
}

fn video_view(job: &JobRecord, filename: String) -> VideoView {
    VideoView {
        id: job.id.clone(),
        filename,
        status: status_of(job.state),
        created_at: rfc3339(job.created_at),
    }
}

/// The original's four states.
fn status_of(state: JobState) -> &'static str {
    match state {
        JobState::Queued | JobState::Retrying => "PENDING",
        JobState::Running => "PROCESSING",
        JobState::Succeeded => "COMPLETED",
        JobState::Failed | JobState::Cancelled => "FAILED",
    }
}
