//! Presigned uploads: the client asks for a URL, PUTs the file straight to
//! it, then completes the upload, which checks that what arrived is what was
//! announced. On S3 the URL is the storage's own presigned PUT; with local
//! storage it points at kinoflow itself and is signed (HMAC) with an expiry.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use futures::TryStreamExt;
use kinoflow_engine::blobs::{self, Access};
use kinoflow_engine::store::{now_ms, PresignedUpload, UploadRecord};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tokio_util::io::StreamReader;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::routes::links::public_base;
use crate::routes::uploads::{content_type_for, sanitise_filename};
use crate::signing;
use crate::state::AppState;
use crate::views::{rfc3339, UploadView};

/// How long a presigned URL accepts the file.
const PRESIGN_TTL_S: i64 = 3600;

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
    if request.size > state.max_upload_bytes {
        return Err(ApiError::too_large(state.max_upload_bytes));
    }
    let filename = sanitise_filename(&request.filename);
    let content_type = content_type_for(request.content_type.as_deref(), &filename);
    let id = uuid::Uuid::now_v7().to_string();
    let blob_key = format!("uploads/{id}");
    let expires = now_ms() / 1000 + PRESIGN_TTL_S;
    let storage_url = state
        .engine
        .blobs
        .presigned_url(
            Access::Write,
            &blob_key,
            std::time::Duration::from_secs(PRESIGN_TTL_S as u64),
        )
        .await?;
    state
        .engine
        .store
        .insert_presigned_upload(&PresignedUpload {
            blob_key,
            id: id.clone(),
            owner_id: user.id,
            filename,
            content_type: content_type.clone(),
            declared_size: request.size as i64,
            expires_at: expires,
            received_size: None,
            received_sha256: None,
            created_at: now_ms(),
        })
        .await?;
    let url = match storage_url {
        Some(url) => url,
        None => {
            let sig = signing::sign(&state.link_key, &put_message(&id, expires));
            let base = public_base(&state)?;
            format!("{base}/v1/uploads/{id}/content?expires={expires}&sig={sig}")
        }
    };
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

/// Receives the file of a presigned upload; the URL is the credential.
#[utoipa::path(put, path = "/v1/uploads/{id}/content", tag = "uploads",
    params(("id" = String, Path, description = "Upload id"), SignedQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204, description = "Received"), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
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
    let pending = state
        .engine
        .store
        .get_presigned_upload(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("upload"))?;
    let mut reader = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let meta = state
        .engine
        .blobs
        .put(
            &pending.blob_key,
            &mut reader,
            Some(pending.declared_size as u64),
        )
        .await?;
    state
        .engine
        .store
        .record_presigned_content(&id, meta.size as i64, &meta.sha256)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks that the announced file arrived (size, and SHA-256 when given) and
/// makes it an upload that jobs can use.
#[utoipa::path(post, path = "/v1/uploads/{id}/complete", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "Upload id")),
    request_body = CompleteRequest,
    responses((status = 201, body = UploadView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CompleteRequest>,
) -> Result<(StatusCode, Json<UploadView>), ApiError> {
    let store = &state.engine.store;
    if let Some(done) = store
        .get_upload(&id)
        .await?
        .filter(|u| u.owner_id == user.id)
    {
        return Ok((StatusCode::CREATED, Json(done.into())));
    }
    let pending = store
        .get_presigned_upload(&id)
        .await?
        .filter(|p| p.owner_id == user.id)
        .ok_or_else(|| ApiError::not_found("upload"))?;
    let received = match (pending.received_size, pending.received_sha256.clone()) {
        (Some(size), Some(sha256)) => Some((size, sha256)),
        // Sent straight to object storage: measure what is there.
        _ => blobs::measure(state.engine.blobs.as_ref(), &pending.blob_key)
            .await?
            .map(|meta| (meta.size as i64, meta.sha256)),
    };
    let Some((size, sha256)) = received else {
        return Err(ApiError::unprocessable(
            "nothing has been sent to the upload URL yet",
        ));
    };
    if size != pending.declared_size {
        return Err(ApiError::unprocessable(format!(
            "{size} bytes arrived, but {} were announced",
            pending.declared_size
        )));
    }
    if let Some(expected) = &request.sha256 {
        if !expected.eq_ignore_ascii_case(&sha256) {
            return Err(ApiError::unprocessable(format!(
                "the file's SHA-256 is {sha256}, not {expected}"
            )));
        }
    }
    let upload = UploadRecord {
        id: pending.id.clone(),
        owner_id: pending.owner_id,
        filename: pending.filename,
        content_type: pending.content_type,
        size,
        sha256,
        blob_key: pending.blob_key,
        created_at: now_ms(),
    };
    store.insert_upload(&upload).await?;
    store.delete_presigned_upload(&pending.id).await?;
    Ok((StatusCode::CREATED, Json(upload.into())))
}
