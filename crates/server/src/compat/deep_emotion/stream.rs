//! Playing an uploaded video. The web client builds
//! `/videos/stream/<the last part of s3_key>` itself and puts it in a
//! `<video src>`, which sends no token; so that last part, the stream name,
//! is the credential: 128 random bits that open that one video, changed
//! when its owner asks and gone with the video. New clients can play the
//! signed, expiring `video_url` of the video's detail instead
//! (`/videos/stream/<id>?expires=…&sig=…`). Anything else is a 404.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use kinoflow_engine::store::now_ms;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{DeepEmotionError, MessageBody};
use super::records::{Records, VideoRow};
use crate::error::ApiError;
use crate::shared::{Disposition, Download};
use crate::signing;
use crate::state::AppState;

/// How long a signed `video_url` plays.
const SIGNED_URL_TTL_S: i64 = 3600;

/// A signed address's query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Expiry, seconds since the Unix epoch.
    expires: Option<i64>,
    sig: Option<String>,
}

/// What a signed stream address signs: the video and the expiry.
fn stream_message(video_id: &str, expires: i64) -> String {
    format!("deepemotion stream\n{video_id}\n{expires}")
}

/// A signed address that plays video `video_id` for an hour; none when the
/// server cannot make links (no public URL).
pub fn signed_video_url(state: &AppState, video_id: &str) -> Option<String> {
    let base = state.link_base.as_deref()?;
    let expires = now_ms() / 1000 + SIGNED_URL_TTL_S;
    let sig = signing::sign(&state.link_key, &stream_message(video_id, expires));
    Some(format!(
        "{base}/api/v2/videos/stream/{video_id}?expires={expires}&sig={sig}"
    ))
}

/// The uploaded video, whole or by byte range.
#[utoipa::path(get, path = "/api/v2/videos/stream/{file}", tag = "deepemotion", operation_id = "deepemotion_stream",
    params(("file" = String, Path, description = "The last part of the video's s3_key, or its id with expires and sig"),
           StreamQuery,
           ("Range" = Option<String>, Header, description = "bytes=START-END")),
    responses((status = 200, description = "The video", content_type = "video/mp4", body = Vec<u8>),
              (status = 206, description = "Part of the video", content_type = "video/mp4", body = Vec<u8>),
              (status = 404, body = MessageBody), (status = 416, body = MessageBody)))]
pub async fn stream(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, DeepEmotionError> {
    let row = streamed_video(&state, &file, &query)
        .await?
        .filter(|row| row.job_id.is_some())
        .ok_or_else(not_found)?;
    let upload = state
        .engine
        .upload(&row.upload_id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(not_found)?;
    let download = Download {
        name: &upload.filename,
        content_type: playable_type(&upload.content_type),
        size: upload.size as u64,
        sha256: &upload.sha256,
        disposition: Disposition::Inline,
    };
    let range = download.range(headers.get(header::RANGE))?;
    let reader = state
        .engine
        .read_upload(&upload, range.clone())
        .await
        .map_err(ApiError::from)?;
    Ok(download.respond(reader, range))
}

/// The video a stream address opens: by a valid signature, else by its
/// stream name.
async fn streamed_video(
    state: &AppState,
    file: &str,
    query: &StreamQuery,
) -> Result<Option<VideoRow>, ApiError> {
    let records = Records(state.store.as_ref());
    match (query.expires, &query.sig) {
        (Some(expires), Some(sig)) => {
            let valid = expires >= now_ms() / 1000
                && signing::verify(&state.link_key, &stream_message(file, expires), sig);
            if valid {
                records.video_of_job(file).await
            } else {
                Ok(None)
            }
        }
        _ => records.video_by_stream_name(file).await,
    }
}

/// The type a stream is sent as: the upload's when it is a video's, else
/// plain bytes (an upload that passed as a video under another type must
/// not open as a page on the API's origin).
fn playable_type(declared: &str) -> &str {
    if declared.starts_with("video/") {
        declared
    } else {
        "application/octet-stream"
    }
}

fn not_found() -> DeepEmotionError {
    DeepEmotionError::said(StatusCode::NOT_FOUND, "Vídeo não encontrado.")
}
