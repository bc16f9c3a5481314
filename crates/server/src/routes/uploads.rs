//! Uploads: files streamed to storage, hashed on the way, never held whole in memory.

use axum::extract::multipart::Field;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::Json;
use futures::TryStreamExt;
use kinoflow_engine::blobs::BlobError;
use kinoflow_engine::store::{now_ms, UploadRecord, UploadRemoval};
use tokio_util::io::StreamReader;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::quota::UploadLimit;
use crate::state::AppState;
use crate::views::UploadView;

/// The multipart form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads a file (multipart field `file`).
#[utoipa::path(post, path = "/v1/uploads", tag = "uploads", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = UploadView), (status = 400, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_upload(
    State(state): State<AppState>,
    user: AuthUser,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<UploadView>), ApiError> {
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("file") {
            let upload = store_upload(&state, &user, field).await?;
            return Ok((StatusCode::CREATED, Json(upload.into())));
        }
    }
    Err(ApiError::unprocessable("the form has no field named file"))
}

/// Streams one multipart field into storage and records it as an upload.
pub async fn store_upload(
    state: &AppState,
    user: &AuthUser,
    field: Field<'_>,
) -> Result<UploadRecord, ApiError> {
    let filename = field
        .file_name()
        .map(sanitise_filename)
        .unwrap_or_else(|| "upload".to_owned());
    let content_type = content_type_for(field.content_type(), &filename);
    let id = uuid::Uuid::now_v7().to_string();
    let blob_key = format!("uploads/{id}");
    let limit = UploadLimit::for_user(state, &user.id).await?;
    let mut reader = StreamReader::new(field.map_err(std::io::Error::other));
    let meta = match state
        .engine
        .blobs
        .put(&blob_key, &mut reader, Some(limit.bytes))
        .await
    {
        Err(BlobError::TooLarge { .. }) => return Err(limit.refusal()),
        stored => stored?,
    };
    if meta.size == 0 {
        state.engine.blobs.delete(&blob_key).await?;
        return Err(ApiError::unprocessable("the uploaded file is empty"));
    }
    let upload = UploadRecord {
        id,
        owner_id: user.id.clone(),
        filename,
        content_type,
        size: meta.size as i64,
        sha256: meta.sha256,
        blob_key,
        created_at: now_ms(),
    };
    if let Err(e) = state.engine.store.insert_upload(&upload).await {
        // Without its record nothing would ever find the file again.
        let _ = state.engine.blobs.delete(&upload.blob_key).await;
        return Err(e.into());
    }
    Ok(upload)
}

/// The client's content type when it says something, else a guess from the name.
pub fn content_type_for(declared: Option<&str>, filename: &str) -> String {
    declared
        .filter(|t| !t.is_empty() && *t != "application/octet-stream")
        .map(str::to_owned)
        .unwrap_or_else(|| {
            mime_guess::from_path(filename)
                .first_or_octet_stream()
                .essence_str()
                .to_owned()
        })
}

/// Keeps the last path component of a client's file name, within bounds.
pub fn sanitise_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if cleaned.is_empty() {
        "upload".to_owned()
    } else {
        cleaned
    }
}

/// One of the caller's uploads, or 404 (others' ids are not confirmed).
async fn visible_upload(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<UploadRecord, ApiError> {
    state
        .engine
        .store
        .get_upload(id)
        .await?
        .filter(|upload| user.may_see(&upload.owner_id))
        .ok_or_else(|| ApiError::not_found("upload"))
}

/// One of the caller's uploads.
#[utoipa::path(get, path = "/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "Upload id")),
    responses((status = 200, body = UploadView), (status = 404, body = ErrorBody)))]
pub async fn get_upload(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<UploadView>, ApiError> {
    Ok(Json(visible_upload(&state, &user, &id).await?.into()))
}

/// Deletes one of the caller's uploads and its file. Jobs that ended keep
/// their results but no longer name it; while a job that has not ended
/// uses it, it stays (409).
#[utoipa::path(delete, path = "/v1/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "Upload id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn delete_upload(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let upload = visible_upload(&state, &user, &id).await?;
    match state.engine.delete_upload(&upload.id).await? {
        UploadRemoval::Removed(_) => Ok(StatusCode::NO_CONTENT),
        UploadRemoval::InUse => Err(ApiError::conflict(
            "a job that has not ended uses this upload; cancel the job or wait for it to end",
        )),
        UploadRemoval::Missing => Err(ApiError::not_found("upload")),
    }
}
