//! The routes of presigned uploads: the client asks for a URL, PUTs the
//! file straight to it, then completes the upload (the engine checks that
//! what arrived is what was announced). On S3 the URL is the storage's own
//! presigned PUT; with local storage it points at kinoflow itself and is
//! signed (HMAC) with an expiry.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use futures::TryStreamExt;
use kinoflow_engine::store::now_ms;
use kinoflow_engine::{Announced, Announcement, DeclaredSize, NewUpload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tokio_util::io::StreamReader;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::quota::UploadLimit;
use crate::routes::links::public_base;
use crate::shared::{content_type_for, sanitise_filename};
use crate::signing;
use crate::state::AppState;
use crate::views::{rfc3339, UploadView};

#[derive(Deserialize, ToSchema)]
pub struct PresignRequest {
    pub filename: String,
    /// The file's exact size in bytes.
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PresignedView {
    pub upload_id: String,
    /// Where to send the file.
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers to send with it.
    pub headers: BTreeMap<String, String>,
    pub expires_at: String,
}

#[derive(Deserialize, Default, ToSchema)]
pub struct CompleteRequest {
    /// When given, the file's SHA-256 (hex) must match it.
    pub sha256: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedQuery {
    /// Expiry, seconds since the Unix epoch.
    pub expires: i64,
    pub sig: String,
}

/// What a presigned upload URL signs.
fn put_message(id: &str, expires: i64) -> String {
    format!("upload\n{id}\n{expires}")
}

/// Announces an upload and gets a URL to send it to.
#[utoipa::path(post, path = "/v1/uploads/presign", tag = "uploads", security(("bearer" = [])),
    request_body = PresignRequest,
    responses((status = 201, body = PresignedView), (status = 413, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn presign(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(request): ApiJson<PresignRequest>,
) -> Result<(StatusCode, Json<PresignedView>), ApiError> {
    if request.size == 0 {
        return Err(ApiError::unprocessable("size must be at least 1 byte"));
    }
    UploadLimit::for_user(&state, &user.id)
        .await?
        .check(request.size)?;
    let filename = sanitise_filename(&request.filename);
    let content_type = content_type_for(request.content_type.as_deref(), &filename);
    let announced = state
        .engine
        .announce_upload(Announcement {
            upload: NewUpload {
                owner_id: user.id,
                filename,
                content_type: content_type.clone(),
            },
            size: DeclaredSize::Exact(request.size),
            ttl: state.presign_ttl,
        })
        .await?;
    let url = upload_url(&state, &announced)?;
    let (id, expires) = (announced.id, announced.expires_at);
    Ok((
        StatusCode::CREATED,
        Json(PresignedView {
            upload_id: id,
            url,
            method: "PUT".to_owned(),
            headers: BTreeMap::from([("content-type".to_owned(), content_type)]),
            expires_at: rfc3339(expires * 1000),
        }),
    ))
}

/// Where the client sends an announced upload's file: the storage's own
/// presigned URL, else a URL to kinoflow that is signed and expires.
pub fn upload_url(state: &AppState, announced: &Announced) -> Result<String, ApiError> {
    if let Some(url) = &announced.storage_url {
        return Ok(url.clone());
    }
    let (id, expires) = (&announced.id, announced.expires_at);
    let sig = signing::sign(&state.link_key, &put_message(id, expires));
    let base = public_base(state)?;
    Ok(format!(
        "{base}/v1/uploads/{id}/content?expires={expires}&sig={sig}"
    ))
}

/// Receives the file of a presigned upload; the URL is the credential.
#[utoipa::path(put, path = "/v1/uploads/{id}/content", tag = "uploads",
    params(("id" = String, Path, description = "Upload id"), SignedQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204, description = "Received"), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 413, body = ErrorBody)))]
pub async fn put_content(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<SignedQuery>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    if !signing::verify(
        &state.link_key,
        &put_message(&id, query.expires),
        &query.sig,
    ) {
        return Err(ApiError::forbidden("this upload URL is not valid"));
    }
    if query.expires < now_ms() / 1000 {
        return Err(ApiError::forbidden("this upload URL has expired"));
    }
    let mut reader = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    state.engine.receive_presigned(&id, &mut reader).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks that the announced file arrived (size, and SHA-256 when given) and
/// makes it an upload that jobs can use.
#[utoipa::path(post, path = "/v1/uploads/{id}/complete", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "Upload id")),
    request_body = CompleteRequest,
    responses((status = 201, body = UploadView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CompleteRequest>,
) -> Result<(StatusCode, Json<UploadView>), ApiError> {
    if let Some(done) = state
        .engine
        .upload(&id)
        .await?
        .filter(|u| u.owner_id == user.id)
    {
        return Ok((StatusCode::CREATED, Json(done.into())));
    }
    let pending = state
        .engine
        .presigned_upload(&id)
        .await?
        .filter(|p| p.owner_id == user.id)
        .ok_or_else(|| ApiError::not_found("upload"))?;
    UploadLimit::for_user(&state, &user.id)
        .await?
        .check(pending.declared_size as u64)?;
    let upload = state
        .engine
        .complete_presigned(pending, request.sha256.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(upload.into())))
}
