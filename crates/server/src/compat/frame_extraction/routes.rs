//! The frame-extraction service's video routes: each reads the request in
//! the original's terms, calls the engine and answers in the original's
//! terms.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use kinoflow_engine::store::{JobFilter, JobState};
use kinoflow_engine::Submission;
use kinoflow_pipelines::artifacts::frames::FRAMES_ZIP;
use serde_json::json;
use utoipa::ToSchema;

use super::vocabulary::VideoView;
use super::{FrameExtractionError, PIPELINE};
use crate::auth::AuthUser;
use crate::compat::error::DetailBody;
use crate::compat::states::celery_status;
use crate::error::{code, ApiError, ErrorBody};
use crate::notices::mail_owner;
use crate::routes::artifacts::serve_artifact;
use crate::shared::{pipeline_job, FileForm};
use crate::state::AppState;

/// The original's default: one frame a second.
const DEFAULT_INTERVAL_S: f64 = 1.0;
/// The most videos `GET /videos/status` lists, newest first.
const MAX_LISTED: i64 = 200;

/// The multipart form of `POST /videos/upload`.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct VideoForm {
    /// The video.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Seconds between frames, above 0; 1 when left out.
    interval: Option<f64>,
}

/// Uploads a video (multipart `file` and optional `interval`, in seconds)
/// and starts extracting its frames.
#[utoipa::path(post, path = "/videos/upload", tag = "frame-extraction", operation_id = "frame_extraction_upload",
    security(("bearer" = [])),
    request_body(content = VideoForm, content_type = "multipart/form-data"),
    responses((status = 201, body = VideoView), (status = 400, body = DetailBody),
              (status = 401, body = ErrorBody), (status = 413, body = DetailBody),
              (status = 422, body = DetailBody)))]
pub async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    request: Request,
) -> Result<(StatusCode, Json<VideoView>), FrameExtractionError> {
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
    Ok(VideoView::new(&job, upload.filename.clone()))
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

/// The caller's videos, newest first.
#[utoipa::path(get, path = "/videos/status", tag = "frame-extraction", operation_id = "frame_extraction_status",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<VideoView>), (status = 401, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<VideoView>>, FrameExtractionError> {
    let jobs = state
        .engine
        .jobs_with_uploads(&JobFilter {
            owner_id: Some(user.id.clone()),
            pipeline: Some(PIPELINE.to_owned()),
            limit: MAX_LISTED,
            ..JobFilter::default()
        })
        .await
        .map_err(ApiError::from)?;
    let videos = jobs
        .into_iter()
        .map(|(job, upload)| {
            VideoView::new(
                &job,
                upload.map(|upload| upload.filename).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Json(videos))
}

/// The frames ZIP of a completed video; honours a single `Range: bytes=…`.
#[utoipa::path(get, path = "/videos/download/{video_id}", tag = "frame-extraction", operation_id = "frame_extraction_download",
    security(("bearer" = [])),
    params(("video_id" = String, Path, description = "The id POST /videos/upload answered"),
           ("Range" = Option<String>, Header, description = "bytes=START-END")),
    responses((status = 200, description = "The frames, one image a file", content_type = "application/zip", body = Vec<u8>),
              (status = 206, description = "Part of the ZIP", content_type = "application/zip", body = Vec<u8>),
              (status = 401, body = ErrorBody), (status = 404, body = DetailBody),
              (status = 409, body = DetailBody), (status = 416, body = DetailBody)))]
pub async fn download(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, FrameExtractionError> {
    let job = pipeline_job(&state, &user, &id, PIPELINE, "video").await?;
    if job.state != JobState::Succeeded {
        return Err(ApiError::new(
            code::NOT_READY,
            format!(
                "the video's frames are not ready ({})",
                celery_status(job.state)
            ),
        )
        .into());
    }
    let artifact = state
        .engine
        .artifact(&job.id, FRAMES_ZIP)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::not_found(FRAMES_ZIP))?;
    Ok(serve_artifact(&state, &artifact, headers.get(header::RANGE)).await?)
}
