//! Presigned uploads: the client asks for a URL, PUTs the file straight to
//! it, then completes the upload, which checks that what arrived is what was
//! announced. On S3 the URL is the storage's own presigned PUT; with local
//! storage it points at kinoflow itself and is signed (HMAC) with an expiry.
//!
//! What arrives stays apart (under [`presigned_prefix`]) until completion
//! moves exactly the bytes it measured to the upload's own key, so a PUT
//! that ends later cannot change an upload: through kinoflow every PUT
//! writes an object of its own (and one after completion is refused); a
//! PUT straight to S3 is copied and measured in one pass. The sweeper
//! removes what stays behind once the URL has expired.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use futures::TryStreamExt;
use kinoflow_engine::blobs::{self, Access, BlobError, BlobMeta};
use kinoflow_engine::presigned_prefix;
use kinoflow_engine::store::{now_ms, PresignedUpload, UploadRecord};
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
    let id = uuid::Uuid::now_v7().to_string();
    // Where the storage's own URL lets the client write.
    let blob_key = format!("{}/direct", presigned_prefix(&id));
    let expires = now_ms() / 1000 + state.presign_ttl.as_secs() as i64;
    let storage_url = state
        .engine
        .blobs
        .presigned_url(Access::Write, &blob_key, state.presign_ttl)
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
            received_key: None,
            received_size: None,
            received_sha256: None,
            created_at: now_ms(),
            completed_at: None,
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
    let pending = state
        .engine
        .store
        .get_presigned_upload(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("upload"))?;
    if pending.completed_at.is_some() {
        return Err(already_completed());
    }
    let blobs = &state.engine.blobs;
    let key = format!(
        "{}/{}",
        presigned_prefix(&id),
        uuid::Uuid::new_v4().simple()
    );
    let mut reader = StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let meta = blobs
        .put(&key, &mut reader, Some(pending.declared_size as u64))
        .await?;
    let recorded = state
        .engine
        .store
        .record_presigned_content(&id, &key, meta.size as i64, &meta.sha256)
        .await?;
    // What is not recorded (or no longer is) goes; should a deletion fail,
    // the sweeper removes the object once the URL has expired.
    let superseded = if recorded {
        pending.received_key
    } else {
        Some(key)
    };
    if let Some(superseded) = superseded {
        let _ = blobs.delete(&superseded).await;
    }
    if recorded {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(already_completed())
    }
}

fn already_completed() -> ApiError {
    ApiError::conflict("this upload is already complete; send another file as a new upload")
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
    UploadLimit::for_user(&state, &user.id)
        .await?
        .check(pending.declared_size as u64)?;
    let blob_key = format!("uploads/{}", uuid::Uuid::now_v7());
    let meta = commit_content(&state, &pending, &blob_key, request.sha256.as_deref()).await?;
    let upload = UploadRecord {
        id: pending.id.clone(),
        owner_id: pending.owner_id,
        filename: pending.filename,
        content_type: pending.content_type,
        size: meta.size as i64,
        sha256: meta.sha256,
        blob_key,
        created_at: now_ms(),
    };
    let blobs = &state.engine.blobs;
    if !store.complete_presigned_upload(&upload).await? {
        // Another request completed it meanwhile: its upload stands.
        let _ = blobs.delete(&upload.blob_key).await;
        let done = store
            .get_upload(&id)
            .await?
            .ok_or_else(|| ApiError::not_found("upload"))?;
        return Ok((StatusCode::CREATED, Json(done.into())));
    }
    // Other PUTs' objects; what a deletion misses the sweeper removes later.
    let _ = blobs.delete_prefix(&presigned_prefix(&id)).await;
    Ok((StatusCode::CREATED, Json(upload.into())))
}

/// Puts what arrived for `pending` at `blob_key`, when it is what was
/// announced, and returns its size and sha256.
async fn commit_content(
    state: &AppState,
    pending: &PresignedUpload,
    blob_key: &str,
    expected_sha256: Option<&str>,
) -> Result<BlobMeta, ApiError> {
    let blobs = state.engine.blobs.as_ref();
    if let (Some(key), Some(size), Some(sha256)) = (
        &pending.received_key,
        pending.received_size,
        &pending.received_sha256,
    ) {
        // Sent through kinoflow: that PUT's object is never written again,
        // so what was recorded when it arrived is what moves.
        let meta = BlobMeta {
            size: size as u64,
            sha256: sha256.clone(),
        };
        check_arrived(pending, &meta, expected_sha256)?;
        return match blobs.rename(key, blob_key).await {
            Ok(()) => Ok(meta),
            Err(BlobError::NotFound(_)) => Err(ApiError::conflict(
                "another file arrived while the upload was being completed; complete it again",
            )),
            Err(e) => Err(e.into()),
        };
    }
    // Sent straight to storage, where the client may write again: the copy
    // is measured as it is made, and the copy is what is kept.
    let limit = Some(pending.declared_size as u64);
    let meta = match blobs::copy_measured(blobs, &pending.blob_key, blob_key, limit).await {
        Ok(Some(meta)) => meta,
        Ok(None) => {
            return Err(ApiError::unprocessable(
                "nothing has been sent to the upload URL yet",
            ))
        }
        Err(BlobError::TooLarge { .. }) => {
            return Err(ApiError::unprocessable(format!(
                "more than the {} bytes announced arrived",
                pending.declared_size
            )))
        }
        Err(e) => return Err(e.into()),
    };
    if let Err(refusal) = check_arrived(pending, &meta, expected_sha256) {
        let _ = blobs.delete(blob_key).await;
        return Err(refusal);
    }
    Ok(meta)
}

/// Refuses a file whose size is not the one announced, or whose sha256 is
/// not the one the client expects.
fn check_arrived(
    pending: &PresignedUpload,
    meta: &BlobMeta,
    expected_sha256: Option<&str>,
) -> Result<(), ApiError> {
    if meta.size as i64 != pending.declared_size {
        return Err(ApiError::unprocessable(format!(
            "{} bytes arrived, but {} were announced",
            meta.size, pending.declared_size
        )));
    }
    match expected_sha256 {
        Some(expected) if !expected.eq_ignore_ascii_case(&meta.sha256) => {
            Err(ApiError::unprocessable(format!(
                "the file's SHA-256 is {}, not {expected}",
                meta.sha256
            )))
        }
        _ => Ok(()),
    }
}
