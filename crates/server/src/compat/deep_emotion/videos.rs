//! DeepEmotion's video routes. A video is an `emotion` job of its owner's,
//! with a title and a stream name kept beside it; it comes as a multipart
//! upload, or as a presigned upload that the client announces, sends and
//! finalises.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use kinoflow_engine::store::{now_ms, JobRecord, JobState};
use kinoflow_engine::{Announcement, DeclaredSize, NewUpload, Submission};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::body::{object, truthy_string, Fields};
use super::caller::Caller;
use super::error::{DeepEmotionError, MessageBody};
use super::records::{Records, VideoRow};
use super::results;
use super::stream::signed_video_url;
use super::vocabulary::{s3_key, VideoDetail, VideoView};
use super::PIPELINE;
use crate::auth::AuthUser;
use crate::error::{code, ApiError};
use crate::notices::owner_notices;
use crate::quota::UploadLimit;
use crate::routes::presign::upload_url;
use crate::shared::{content_type_for, sanitise_filename, FileForm};
use crate::state::AppState;
use crate::SMALL_BODY_LIMIT;

/// The most videos `GET /videos/` lists, newest first.
const MAX_LISTED: i64 = 200;
/// The longest title the original's column held.
const MAX_TITLE_CHARS: usize = 255;
/// Random bytes in a stream name: 128 bits, never guessed.
const STREAM_NAME_BYTES: usize = 16;

/// The multipart form of `POST /videos/upload`.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct VideoForm {
    /// The video.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// 1 to 255 characters.
    title: String,
}

/// The JSON body of `POST /videos/upload/initialize` (and of
/// `POST /videos/upload` sent as JSON).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct UploadRequest {
    /// The file's name; its extension is kept.
    filename: String,
}

/// Where to send an announced file.
#[derive(Serialize, ToSchema)]
pub struct UploadTicket {
    /// PUT the file here (no headers needed) within the upload lifetime.
    upload_url: String,
    /// Name it to `POST /videos/upload/finalize`.
    s3_key: String,
}

/// `POST /videos/upload/finalize`'s body.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct FinalizeRequest {
    s3_key: String,
    title: String,
}

/// `PATCH /videos/{id}`'s body.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct TitleChange {
    /// 1 to 255 characters.
    title: String,
}

/// The caller's videos, newest first.
#[utoipa::path(get, path = "/api/v2/videos/", tag = "deepemotion", operation_id = "deepemotion_videos",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<VideoView>), (status = 401, body = MessageBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<Vec<VideoView>>, DeepEmotionError> {
    let rows = Records(state.store.as_ref())
        .videos_of(&user.id, MAX_LISTED)
        .await?;
    let mut videos = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(job) = job_of(&state, &row).await? {
            videos.push(view(&state, row, &job).await?);
        }
    }
    Ok(Json(videos))
}

/// The caller's videos, as `GET /videos/` (the path without its slash).
#[utoipa::path(get, path = "/api/v2/videos", tag = "deepemotion", operation_id = "deepemotion_videos_unslashed",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<VideoView>), (status = 401, body = MessageBody)))]
pub async fn list_unslashed(
    state: State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<VideoView>>, DeepEmotionError> {
    list(state, caller).await
}

/// A video, its frames once it is analysed, and a signed address to play it.
#[utoipa::path(get, path = "/api/v2/videos/{video_id}", tag = "deepemotion", operation_id = "deepemotion_video",
    security(("bearer" = [])),
    params(("video_id" = String, Path, description = "The video's id")),
    responses((status = 200, body = VideoDetail), (status = 401, body = MessageBody),
              (status = 404, body = MessageBody)))]
pub async fn detail(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<VideoDetail>, DeepEmotionError> {
    let (row, job) = owned_video(&state, &user, &id).await?;
    let frames = if job.state == JobState::Succeeded {
        results::frames(&state, &job).await?
    } else {
        Vec::new()
    };
    Ok(Json(VideoDetail {
        frames,
        video_url: signed_video_url(&state, &job.id),
        video: view(&state, row, &job).await?,
    }))
}

/// Changes a video's title.
#[utoipa::path(patch, path = "/api/v2/videos/{video_id}", tag = "deepemotion", operation_id = "deepemotion_retitle",
    security(("bearer" = [])),
    params(("video_id" = String, Path, description = "The video's id")),
    request_body = TitleChange,
    responses((status = 200, body = VideoView), (status = 400, body = MessageBody),
              (status = 404, body = MessageBody),
              (status = 422, description = "`{field: [messages]}` and `error`")))]
pub async fn retitle(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<VideoView>, DeepEmotionError> {
    let (mut row, job) = owned_video(&state, &user, &id).await?;
    let mut fields = Fields::new(object(&body)?, &["title"]);
    let title = fields.string("title", 1, Some(MAX_TITLE_CHARS));
    let title = fields.finish(title)?;
    Records(state.store.as_ref())
        .set_title(&row.upload_id, &title)
        .await?;
    row.title = Some(title);
    Ok(Json(view(&state, row, &job).await?))
}

/// Gives a video a new stream name, so that its old `/videos/stream/…`
/// address stops working (a kinoflow addition).
#[utoipa::path(post, path = "/api/v2/videos/{video_id}/stream-name", tag = "deepemotion", operation_id = "deepemotion_rotate_stream_name",
    security(("bearer" = [])),
    params(("video_id" = String, Path, description = "The video's id")),
    responses((status = 200, body = VideoView), (status = 404, body = MessageBody)))]
pub async fn rotate_stream_name(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<VideoView>, DeepEmotionError> {
    let (mut row, job) = owned_video(&state, &user, &id).await?;
    let upload = state
        .engine
        .upload(&row.upload_id)
        .await
        .map_err(ApiError::from)?;
    let filename = upload.map(|u| u.filename).unwrap_or_default();
    row.stream_name = new_stream_name(&filename);
    Records(state.store.as_ref())
        .set_stream_name(&row.upload_id, &row.stream_name)
        .await?;
    Ok(Json(view(&state, row, &job).await?))
}

/// Uploads a video (multipart `file` and `title`) and starts its analysis;
/// sent as JSON `{filename}` instead, announces a presigned upload as
/// `/videos/upload/initialize` does.
#[utoipa::path(post, path = "/api/v2/videos/upload", tag = "deepemotion", operation_id = "deepemotion_upload",
    security(("bearer" = [])),
    request_body(content(
        (VideoForm = "multipart/form-data"),
        (UploadRequest = "application/json"))),
    responses((status = 202, body = VideoView), (status = 200, body = UploadTicket),
              (status = 400, body = MessageBody), (status = 401, body = MessageBody),
              (status = 413, body = MessageBody), (status = 422, body = MessageBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Caller(user): Caller,
    request: Request,
) -> Result<Response, DeepEmotionError> {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_form {
        // This route takes videos, so its body is not capped by default.
        let body = axum::body::to_bytes(request.into_body(), SMALL_BODY_LIMIT)
            .await
            .map_err(|_| {
                ApiError::new(
                    code::TOO_LARGE,
                    format!("a JSON body is at most {SMALL_BODY_LIMIT} bytes"),
                )
            })?;
        return Ok(announce(&state, &user, &body).await?.into_response());
    }
    let mut form = FileForm::from_request(&state, &user, request, &["title"]).await?;
    let submitted = submit_form_video(&state, &user, &mut form).await;
    // The file stays only with the job that uses it.
    form.keep_if(&state, submitted.is_ok()).await;
    let (job, title) = submitted?;
    let view = started_view(&state, &job, &title).await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// Records the video of a multipart upload and queues its analysis; the
/// job and the title. A refused submission leaves no record.
async fn submit_form_video(
    state: &AppState,
    user: &AuthUser,
    form: &mut FileForm,
) -> Result<(JobRecord, String), DeepEmotionError> {
    let title = form.take_text("title");
    let Some(upload) = form.upload() else {
        return Err(DeepEmotionError::bad_request("Nenhum arquivo enviado."));
    };
    let title = checked_title(title, &upload.filename)?;
    let records = Records(state.store.as_ref());
    records
        .insert_video(&upload.id, &user.id, &new_stream_name(&upload.filename))
        .await?;
    match submit_video(state, user, &upload.id, None).await {
        Ok(job) => Ok((job, title)),
        Err(refusal) => {
            records.forget_unstarted(&upload.id).await?;
            Err(refusal.into())
        }
    }
}

/// The title of an upload: 400 when it or the file's name is empty (as the
/// original said), 422 when it is too long (the original failed with 500).
fn checked_title(title: Option<String>, filename: &str) -> Result<String, DeepEmotionError> {
    let title = title.map(|t| t.trim().to_owned()).unwrap_or_default();
    if title.is_empty() || filename.is_empty() {
        return Err(DeepEmotionError::bad_request(
            "Título e arquivo são obrigatórios.",
        ));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(DeepEmotionError::invalid(BTreeMap::from([(
            "title".to_owned(),
            vec![format!("Length must be between 1 and {MAX_TITLE_CHARS}.")],
        )])));
    }
    Ok(title)
}

/// Queues the analysis of a recorded video's upload; `idempotency_key`
/// makes a repeated submission answer the same job.
async fn submit_video(
    state: &AppState,
    user: &AuthUser,
    upload_id: &str,
    idempotency_key: Option<String>,
) -> Result<JobRecord, ApiError> {
    let mut params = json!({});
    if let Some(limit) = state.compat.deepemotion_max_duration_s {
        params["max_duration_s"] = json!(limit);
    }
    let (job, _) = state
        .engine
        .submit(Submission {
            owner_id: user.id.clone(),
            pipeline: PIPELINE.to_owned(),
            upload_id: Some(upload_id.to_owned()),
            params,
            idempotency_key,
            notices: owner_notices(state, user),
        })
        .await?;
    Ok(job)
}

/// Names a submitted video's job and title, and the video as it now is.
async fn started_view(
    state: &AppState,
    job: &JobRecord,
    title: &str,
) -> Result<VideoView, DeepEmotionError> {
    let upload_id = job
        .upload_id
        .as_deref()
        .ok_or_else(|| ApiError::internal("a video's job has no upload"))?;
    let records = Records(state.store.as_ref());
    records.start_video(upload_id, &job.id, title).await?;
    let row = records
        .video_of_job(&job.id)
        .await?
        .ok_or_else(|| ApiError::internal("a started video's record is missing"))?;
    Ok(view(state, row, job).await?)
}

/// Announces a presigned upload (`{filename}`): where to send the file,
/// and the key to finalise it with.
#[utoipa::path(post, path = "/api/v2/videos/upload/initialize", tag = "deepemotion", operation_id = "deepemotion_upload_initialize",
    security(("bearer" = [])),
    request_body = UploadRequest,
    responses((status = 200, body = UploadTicket), (status = 400, body = MessageBody),
              (status = 401, body = MessageBody)))]
pub async fn initialize(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Bytes,
) -> Result<Json<UploadTicket>, DeepEmotionError> {
    announce(&state, &user, &body).await
}

async fn announce(
    state: &AppState,
    user: &AuthUser,
    body: &Bytes,
) -> Result<Json<UploadTicket>, DeepEmotionError> {
    let body = object(body)?;
    let Some(filename) = truthy_string(&body, "filename") else {
        return Err(DeepEmotionError::bad_request(
            "O nome do arquivo é obrigatório.",
        ));
    };
    let records = Records(state.store.as_ref());
    let expired = now_ms() - state.presign_ttl.as_millis() as i64;
    records.forget_abandoned(&user.id, expired).await?;
    let filename = sanitise_filename(&filename);
    let limit = UploadLimit::for_user(state, &user.id).await?;
    let announced = state
        .engine
        .announce_upload(Announcement {
            upload: NewUpload {
                owner_id: user.id.clone(),
                content_type: content_type_for(None, &filename),
                filename: filename.clone(),
            },
            size: DeclaredSize::AtMost(limit.bytes),
            ttl: state.presign_ttl,
        })
        .await
        .map_err(ApiError::from)?;
    let stream_name = new_stream_name(&filename);
    records
        .insert_video(&announced.id, &user.id, &stream_name)
        .await?;
    Ok(Json(UploadTicket {
        upload_url: upload_url(state, &announced)?,
        s3_key: s3_key(&user.id, &stream_name),
    }))
}

/// Makes a presigned upload the caller has sent a video, and starts its
/// analysis. Finalising again answers the same video.
#[utoipa::path(post, path = "/api/v2/videos/upload/finalize", tag = "deepemotion", operation_id = "deepemotion_upload_finalize",
    security(("bearer" = [])),
    request_body = FinalizeRequest,
    responses((status = 202, body = VideoView), (status = 400, body = MessageBody),
              (status = 401, body = MessageBody), (status = 404, body = MessageBody),
              (status = 413, body = MessageBody), (status = 422, body = MessageBody)))]
pub async fn finalize(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<VideoView>), DeepEmotionError> {
    let body = object(&body)?;
    let (Some(key), Some(title)) = (
        truthy_string(&body, "s3_key"),
        truthy_string(&body, "title"),
    ) else {
        return Err(DeepEmotionError::bad_request(
            "s3_key e title são obrigatórios.",
        ));
    };
    let row = announced_video(&state, &user, &key).await?;
    if let Some(job) = job_of(&state, &row).await? {
        return Ok((StatusCode::ACCEPTED, Json(view(&state, row, &job).await?)));
    }
    let pending = state
        .engine
        .presigned_upload(&row.upload_id)
        .await
        .map_err(ApiError::from)?
        .filter(|pending| pending.owner_id == user.id)
        .ok_or_else(DeepEmotionError::no_video)?;
    let title = checked_title(Some(title), &pending.filename)?;
    // What arrived through kinoflow is measured already; a file sent
    // straight to S3 was capped at the room left when it was announced.
    if let Some(size) = pending.received_size {
        UploadLimit::for_user(&state, &user.id)
            .await?
            .check(size as u64)?;
    }
    let upload = match state.engine.complete_presigned(pending, None, None).await {
        Ok(upload) => upload,
        Err(refusal) => return finalised_meanwhile(&state, &key, &user, refusal.into()).await,
    };
    // Two finalisations at once submit one job: the key makes the second
    // answer the first's.
    let key_of_upload = format!("deepemotion-finalize:{}", upload.id);
    let job = match submit_video(&state, &user, &upload.id, Some(key_of_upload)).await {
        Ok(job) => job,
        Err(refusal) => {
            // A refused file is not kept, as a refused multipart upload is not.
            Records(state.store.as_ref())
                .forget_unstarted(&upload.id)
                .await?;
            if let Err(e) = state.engine.delete_upload(&upload.id).await {
                tracing::warn!(upload_id = %upload.id, error = %e, "could not delete a refused upload");
            }
            return Err(refusal.into());
        }
    };
    let view = started_view(&state, &job, &title).await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// The video another finalisation of `key` started while this one failed
/// to complete the upload; else `refusal`.
async fn finalised_meanwhile(
    state: &AppState,
    key: &str,
    user: &AuthUser,
    refusal: ApiError,
) -> Result<(StatusCode, Json<VideoView>), DeepEmotionError> {
    let row = announced_video(state, user, key).await?;
    match job_of(state, &row).await? {
        Some(job) => Ok((StatusCode::ACCEPTED, Json(view(state, row, &job).await?))),
        None => Err(refusal.into()),
    }
}

/// The caller's announced video of `key` (`uploads/<user id>/<stream name>`).
async fn announced_video(
    state: &AppState,
    user: &AuthUser,
    key: &str,
) -> Result<VideoRow, DeepEmotionError> {
    let prefix = format!("uploads/{}/", user.id);
    let stream_name = key
        .strip_prefix(&prefix)
        .ok_or_else(DeepEmotionError::no_video)?;
    Records(state.store.as_ref())
        .video_by_stream_name(stream_name)
        .await?
        .filter(|row| row.owner_id == user.id)
        .ok_or_else(DeepEmotionError::no_video)
}

/// The caller's started video `id` and its job; 404 for anyone else's.
async fn owned_video(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<(VideoRow, JobRecord), DeepEmotionError> {
    let row = Records(state.store.as_ref())
        .video_of_job(id)
        .await?
        .filter(|row| row.owner_id == user.id)
        .ok_or_else(DeepEmotionError::no_video)?;
    let job = job_of(state, &row)
        .await?
        .ok_or_else(DeepEmotionError::no_video)?;
    Ok((row, job))
}

/// The job of a started video, while it exists.
async fn job_of(state: &AppState, row: &VideoRow) -> Result<Option<JobRecord>, ApiError> {
    match &row.job_id {
        Some(job_id) => Ok(state.engine.job(job_id).await?),
        None => Ok(None),
    }
}

/// The view of a video, its numbers read once it has succeeded.
async fn view(state: &AppState, mut row: VideoRow, job: &JobRecord) -> Result<VideoView, ApiError> {
    let (frames, duration) = results::numbers(state, &row, job).await?;
    row.frame_count = Some(frames);
    row.duration_s = Some(duration);
    Ok(VideoView::new(&row, job))
}

/// A new stream name: 128 random bits, URL-safe, with the file's extension
/// (the web client and browsers see a video file's name).
fn new_stream_name(filename: &str) -> String {
    let bytes: [u8; STREAM_NAME_BYTES] = rand::random();
    let random = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let extension: String = filename
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_default();
    if extension.is_empty() {
        random
    } else {
        format!("{random}.{extension}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_are_random_and_keep_a_plain_extension() {
        let a = new_stream_name("clip.MP4");
        let b = new_stream_name("clip.MP4");
        assert_ne!(a, b);
        assert!(a.ends_with(".mp4"));
        assert_eq!(a.len(), 22 + 4);
        assert!(!new_stream_name("x.m/p4").contains('/'));
        assert!(!new_stream_name("noext").contains('.'));
    }

    #[test]
    fn titles_are_checked_as_the_original_did_and_better() {
        assert!(checked_title(Some("ok".into()), "a.mp4").is_ok());
        assert!(matches!(
            checked_title(Some(" ".into()), "a.mp4"),
            Err(DeepEmotionError::Said(status, _)) if status == 400
        ));
        assert!(matches!(
            checked_title(Some("x".repeat(256)), "a.mp4"),
            Err(DeepEmotionError::Said(status, _)) if status == 422
        ));
    }
}
