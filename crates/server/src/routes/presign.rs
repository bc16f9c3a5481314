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
use kinoflow_engine::{Announced, Announcement, DeclaredSize, NewUpload, PartPlan};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tokio_util::io::StreamReader;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
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
    /// Send the file in parts of this many bytes (at least 65536, at most
    /// 10000 parts; the last part is the rest): the answer lists a URL for
    /// each part, and a part that failed is sent again alone.
    pub part_size: Option<u64>,
}

/// Where to send one part of a file sent in parts.
#[derive(Serialize, ToSchema)]
pub struct PartView {
    /// From 1.
    pub number: u64,
    pub url: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartsQuery {
    /// The `part_size` the upload was announced with.
    pub part_size: u64,
}

/// The parts of an upload that have arrived whole.
#[derive(Serialize, ToSchema)]
pub struct ReceivedParts {
    /// How many parts the file has.
    pub count: u64,
    /// The numbers of those that arrived whole.
    pub received: Vec<u64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedPartQuery {
    pub part_size: u64,
    /// Expiry, seconds since the Unix epoch.
    pub expires: i64,
    pub sig: String,
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
    /// With `part_size`: where to send each part (same method and headers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<PartView>>,
}

#[derive(Deserialize, Default, ToSchema)]
pub struct CompleteRequest {
    /// When given, the file's SHA-256 (hex) must match it.
    pub sha256: Option<String>,
    /// For a file sent in parts: the `part_size` it was announced with; the
    /// parts are joined in order.
    pub part_size: Option<u64>,
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

/// What the URL of one part signs.
fn part_message(id: &str, part_size: u64, number: u64, expires: i64) -> String {
    format!("upload part\n{id}\n{part_size}\n{number}\n{expires}")
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
    let plan = request
        .part_size
        .map(|part_size| PartPlan::new(request.size, part_size))
        .transpose()?;
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
    let parts = match plan {
        Some(plan) => Some(part_urls(&state, &announced, plan).await?),
        None => None,
    };
    let (id, expires) = (announced.id, announced.expires_at);
    Ok((
        StatusCode::CREATED,
        Json(PresignedView {
            upload_id: id,
            url,
            method: "PUT".to_owned(),
            headers: BTreeMap::from([("content-type".to_owned(), content_type)]),
            expires_at: rfc3339(expires * 1000),
            parts,
        }),
    ))
}

/// Where each part goes: the storage's own URLs, else signed URLs to kinoflow.
async fn part_urls(
    state: &AppState,
    announced: &Announced,
    plan: PartPlan,
) -> Result<Vec<PartView>, ApiError> {
    let (id, expires) = (&announced.id, announced.expires_at);
    let base = public_base(state)?;
    let mut parts = Vec::with_capacity(plan.count() as usize);
    for number in 1..=plan.count() {
        let url = match state.engine.part_url(id, number, state.presign_ttl).await? {
            Some(url) => url,
            None => {
                let part_size = plan.part_size();
                let sig = signing::sign(
                    &state.link_key,
                    &part_message(id, part_size, number, expires),
                );
                format!(
                    "{base}/v1/uploads/{id}/parts/{number}?part_size={part_size}&expires={expires}&sig={sig}"
                )
            }
        };
        parts.push(PartView { number, url });
    }
    Ok(parts)
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
    check_signed_url(
        &state,
        &put_message(&id, query.expires),
        &query.sig,
        query.expires,
    )?;
    let mut reader = body_reader(body);
    state.engine.receive_presigned(&id, &mut reader).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses (403) a URL whose signature does not sign `message`, or that has
/// expired (`expires`, seconds since the epoch).
fn check_signed_url(
    state: &AppState,
    message: &str,
    sig: &str,
    expires: i64,
) -> Result<(), ApiError> {
    if !signing::verify(&state.link_key, message, sig) {
        return Err(ApiError::forbidden("this upload URL is not valid"));
    }
    if expires < now_ms() / 1000 {
        return Err(ApiError::forbidden("this upload URL has expired"));
    }
    Ok(())
}

/// A request body as a reader.
fn body_reader(body: Body) -> impl tokio::io::AsyncRead + Send + Unpin {
    StreamReader::new(body.into_data_stream().map_err(std::io::Error::other))
}

/// Receives one part of a file sent in parts; the URL is the credential. A
/// part sent again replaces the one before.
#[utoipa::path(put, path = "/v1/uploads/{id}/parts/{number}", tag = "uploads",
    params(("id" = String, Path, description = "Upload id"),
           ("number" = u64, Path, description = "Part number, from 1"), SignedPartQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204, description = "Received"), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn put_part(
    State(state): State<AppState>,
    Path((id, number)): Path<(String, u64)>,
    Query(query): Query<SignedPartQuery>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let message = part_message(&id, query.part_size, number, query.expires);
    check_signed_url(&state, &message, &query.sig, query.expires)?;
    let mut reader = body_reader(body);
    state
        .engine
        .receive_part(&id, query.part_size, number, &mut reader)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which parts of a file sent in parts have arrived whole, so that a client
/// whose connection dropped sends only the others.
#[utoipa::path(get, path = "/v1/uploads/{id}/parts", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "Upload id"), PartsQuery),
    responses((status = 200, body = ReceivedParts), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn received_parts(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PartsQuery>,
) -> Result<Json<ReceivedParts>, ApiError> {
    let pending = state
        .engine
        .presigned_upload(&id)
        .await?
        .filter(|p| p.owner_id == user.id)
        .ok_or_else(|| ApiError::not_found("upload"))?;
    let plan = PartPlan::of(&pending, query.part_size)?;
    let received = state.engine.received_parts(&pending, plan).await?;
    Ok(Json(ReceivedParts {
        count: plan.count(),
        received,
    }))
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
    let plan = request
        .part_size
        .map(|part_size| PartPlan::of(&pending, part_size))
        .transpose()?;
    let upload = state
        .engine
        .complete_presigned(pending, plan, request.sha256.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(upload.into())))
}
