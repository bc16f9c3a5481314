//! Uploads: files streamed to storage, hashed on the way, never held whole in memory.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::Json;
use kinoflow_engine::store::{UploadRecord, UploadRemoval};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::shared::store_upload;
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

/// One of the caller's uploads, or 404 (others' ids are not confirmed).
async fn visible_upload(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<UploadRecord, ApiError> {
    state
        .engine
        .upload(id)
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
