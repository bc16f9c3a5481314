//! `POST /api/render`: a project's short rendered by the `render`
//! pipeline (1080×1920), from its scenes' assets or the scenes given
//! (`imageUrl`, `videoUrl`, `audioUrl`, `durationSeconds` or `duration`,
//! `wordTimings`), with `bgMusicUrl` under it; `GET /api/render/{id}`
//! says how it goes. The original's worker fetched whatever URL a client
//! sent; here every URL must be an upload of the caller's (checked by the
//! engine, as any job's), and nothing is fetched from elsewhere.
//! `POST /api/webhooks/job-status` stays for an external render worker:
//! it needs the operator's worker secret, and merges what it reports.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use kinoflow_engine::store::JobState;
use kinoflow_engine::Submission;
use serde_json::{json, Value};

use super::assets::{upload_in, url_of_key};
use super::error::{json_body, Caller, ShortsError};
use super::projects::owned_project;
use super::records::{Renders, Report, SceneRow, Scenes};
use super::views::word_timings;
use crate::compat::secret::{bearer_token, same_secret};
use crate::error::ApiError;
use crate::notices::owner_notices;
use crate::state::AppState;

/// The frame of every render, and of the pictures drawn for it.
pub const WIDTH: u32 = 1080;
pub const HEIGHT: u32 = 1920;
/// A render's statuses.
const RENDER_STATUSES: [&str; 4] = ["pending", "processing", "completed", "failed"];

/// Queues a render of a project.
#[utoipa::path(post, path = "/api/render", tag = "shortsai", operation_id = "shortsai_renders_render", security(("bearer" = [])),
    request_body = Value,
    responses((status = 200, description = "`{success, jobId, status: \"pending\", message}`"),
              (status = 400, description = "`{\"error\": …}`: no project id, no scenes, a URL that is not the caller's upload"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn render(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let body = json_body(&body)?;
    let project_id = body["projectId"].as_str().ok_or_else(|| {
        ShortsError::bad_request("Invalid payload: projectId and scenes array required")
    })?;
    let project = owned_project(&state, &user, project_id).await?;
    let scenes = match &body["scenes"] {
        Value::Null => project_scenes(&Scenes(state.store.as_ref()).of_project(project_id).await?),
        Value::Array(given) => given_scenes(&state, given)?,
        _ => {
            return Err(ShortsError::bad_request(
                "Invalid payload: projectId and scenes array required",
            ))
        }
    };
    if scenes.is_empty() {
        return Err(ShortsError::bad_request("No scenes provided"));
    }
    let mut spec = json!({"width": WIDTH, "height": HEIGHT, "scenes": scenes});
    if let Some(music) = body["bgMusicUrl"].as_str().filter(|url| !url.is_empty()) {
        spec["music"] = json!(upload_in(&state, music)
            .ok_or_else(|| { ShortsError::bad_request("bgMusicUrl is not an asset of yours") })?);
    }
    let (job, _) = state
        .engine
        .submit(Submission {
            owner_id: user.id.clone(),
            pipeline: "render".to_owned(),
            upload_id: None,
            params: spec,
            idempotency_key: None,
            notices: owner_notices(&state, &user),
        })
        .await
        .map_err(refused_spec)?;
    let id = uuid::Uuid::new_v4().to_string();
    Renders(state.store.as_ref())
        .create(&id, &user.id, &project.id, &job.id)
        .await?;
    Ok(Json(json!({
        "success": true,
        "jobId": id,
        "status": "pending",
        "message": "Render job queued successfully",
    })))
}

/// A render the engine refused: the client's mistake (a 4xx, such as an
/// upload that is not theirs) as the original's 400, anything else as is.
fn refused_spec(error: kinoflow_engine::SubmitError) -> ShortsError {
    let error = ApiError::from(error);
    if error.status().is_client_error() {
        ShortsError::bad_request(error.describe())
    } else {
        error.into()
    }
}

/// The render spec's scenes from a project's: each one's video when it has
/// one made, else its picture; its narration with its word times.
fn project_scenes(scenes: &[SceneRow]) -> Vec<Value> {
    scenes.iter().map(|scene| scene_spec(scene, true)).collect()
}

/// One scene of a render spec: its picture, or its video when `clip` and it
/// has one made; its narration with its word times, else its length.
pub fn scene_spec(scene: &SceneRow, clip: bool) -> Value {
    let mut spec = json!({});
    let video = scene
        .video_upload_id
        .as_ref()
        .filter(|_| clip && scene.media_type == "video");
    match (video, &scene.image_upload_id) {
        (Some(video), _) => spec["video"] = json!(video),
        (None, Some(image)) => spec["image"] = json!(image),
        (None, None) => {}
    }
    match &scene.audio_upload_id {
        Some(audio) => {
            spec["audio"] = json!(audio);
            let words = word_timings(scene);
            if words.is_array() {
                spec["word_timings"] = words;
            }
        }
        None => spec["duration_s"] = json!(scene.duration_seconds.max(0.5)),
    }
    spec
}

/// The render spec's scenes from the ShortsAI scenes a client sent.
fn given_scenes(state: &AppState, scenes: &[Value]) -> Result<Vec<Value>, ShortsError> {
    scenes
        .iter()
        .enumerate()
        .map(|(index, scene)| {
            let mut spec = json!({});
            for (field, name) in [
                ("imageUrl", "image"),
                ("videoUrl", "video"),
                ("audioUrl", "audio"),
            ] {
                if let Some(url) = scene[field].as_str().filter(|url| !url.is_empty()) {
                    spec[name] = json!(upload_in(state, url).ok_or_else(|| {
                        ShortsError::bad_request(format!(
                            "scenes[{index}].{field} is not an asset of yours"
                        ))
                    })?);
                }
            }
            if spec.get("image").is_some() && spec.get("video").is_some() {
                // As the original worker: the clip wins.
                if let Some(map) = spec.as_object_mut() {
                    map.remove("image");
                }
            }
            let seconds =
                ["durationSeconds", "duration"]
                    .iter()
                    .find_map(|name| match &scene[*name] {
                        Value::Number(n) => n.as_f64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    });
            if let Some(seconds) = seconds.filter(|s| s.is_finite() && *s > 0.0) {
                spec["duration_s"] = json!(seconds);
            }
            if scene["wordTimings"].is_array() && spec.get("audio").is_some() {
                spec["word_timings"] = scene["wordTimings"].clone();
            }
            Ok(spec)
        })
        .collect()
}

/// How a render goes.
#[utoipa::path(get, path = "/api/render/{id}", tag = "shortsai", operation_id = "shortsai_renders_status", security(("bearer" = [])),
    params(("id" = String, Path, description = "The render's `jobId`")),
    responses((status = 200, description = "`{id, status, progress, eta, resultUrl?, error?}`"),
              (status = 404, description = "`{\"error\": \"Job not found\"}`")))]
pub async fn status(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ShortsError> {
    let render = Renders(state.store.as_ref())
        .get(&id)
        .await?
        .filter(|render| render.owner_id == user.id)
        .ok_or_else(|| ShortsError::not_found("Job not found"))?;
    let job = match &render.job_id {
        Some(job_id) => state.engine.job(job_id).await?,
        None => None,
    };
    let (mut status, mut progress, mut url, mut error) = match &job {
        Some(job) => (
            match job.state {
                JobState::Queued => "pending",
                JobState::Running => "processing",
                JobState::Succeeded => "completed",
                _ => "failed",
            }
            .to_owned(),
            (job.progress * 100.0).round(),
            None,
            job.error.clone(),
        ),
        None => ("pending".to_owned(), 0.0, None, None),
    };
    if let Some(job) = job.as_ref().filter(|job| job.state == JobState::Succeeded) {
        let video = state
            .engine
            .artifact(&job.id, kinoflow_pipelines::artifacts::render::VIDEO)
            .await?;
        url = video.map(|video| url_of_key(&state, &video.blob_key));
    }
    // What an external worker reported wins over the job's own record.
    if let Some(reported) = render.reported_status {
        status = reported;
    }
    progress = render.reported_progress.unwrap_or(progress);
    url = render.reported_url.or(url);
    error = render.reported_error.or(error);
    if status == "completed" {
        progress = 100.0;
    }
    let mut answer = json!({"id": render.id, "status": status, "progress": progress, "eta": null});
    if let Some(url) = url {
        answer["resultUrl"] = json!(url);
    }
    if let Some(error) = error {
        answer["error"] = json!(error);
    }
    Ok(Json(answer))
}

/// An external render worker reports on a render.
#[utoipa::path(post, path = "/api/webhooks/job-status", tag = "shortsai", operation_id = "shortsai_renders_webhook",
    request_body = Value,
    responses((status = 200, description = "`{\"success\": true}`"),
              (status = 400, description = "`{\"error\": \"Missing jobId\"}`, or a bad field"),
              (status = 401, description = "`{\"error\": \"Unauthorized\"}`"),
              (status = 404, description = "No secret is configured (the route is off), or no such render")))]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let Some(secret) = &state.compat.worker_secret else {
        return Err(ShortsError::not_found(
            "the worker webhook is off: the operator has set no worker secret (KINOFLOW_WORKER_SECRET)",
        ));
    };
    if !bearer_token(&headers).is_some_and(|token| same_secret(&token, secret)) {
        return Err(ShortsError::said(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    let body = json_body(&body)?;
    let id = body["jobId"]
        .as_str()
        .ok_or_else(|| ShortsError::bad_request("Missing jobId"))?;
    let report = report_in(&body)?;
    let renders = Renders(state.store.as_ref());
    if renders.get(id).await?.is_none() {
        return Err(ShortsError::not_found("Job not found"));
    }
    renders.report(id, &report).await?;
    Ok(Json(json!({"success": true})))
}

/// What a worker's body says; what it leaves out is kept.
fn report_in(body: &Value) -> Result<Report, ShortsError> {
    let text = |name: &str| body[name].as_str().map(str::to_owned);
    let status = text("status");
    if status
        .as_deref()
        .is_some_and(|s| !RENDER_STATUSES.contains(&s))
    {
        return Err(ShortsError::bad_request(format!(
            "status must be one of {}",
            RENDER_STATUSES.join(", ")
        )));
    }
    let progress = match &body["progress"] {
        Value::Null => None,
        value => Some(
            value
                .as_f64()
                .filter(|p| (0.0..=100.0).contains(p))
                .ok_or_else(|| {
                    ShortsError::bad_request("progress must be a number from 0 to 100")
                })?,
        ),
    };
    Ok(Report {
        status,
        progress,
        url: text("resultUrl"),
        error: text("error"),
    })
}
