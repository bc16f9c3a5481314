//! Signed links: a URL that downloads one artifact (or the whole ZIP) without
//! a token until it expires. The URL carries its expiry and an HMAC over the
//! job, the artifact and the expiry, so changing any of them breaks it. When
//! the storage signs URLs itself (S3), a link to one artifact redirects to a
//! short-lived storage URL, so the bytes do not pass through the API node.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::routes::artifacts::{serve_archive, serve_artifact};
use crate::shared::visible_job;
use crate::signing;
use crate::state::AppState;
use crate::views::rfc3339;

/// The name that stands for the ZIP of every artifact.
pub const ARCHIVE: &str = "archive.zip";
const DEFAULT_TTL_S: u64 = 24 * 3600;
const MAX_TTL_S: u64 = 30 * 24 * 3600;
/// The longest a storage URL behind a link lives: it is followed at once.
const STORAGE_URL_TTL_S: i64 = 900;

#[derive(Deserialize, ToSchema)]
pub struct CreateLink {
    /// An artifact's name, or `archive.zip` for all of them.
    pub artifact: String,
    /// Seconds the link works for: 1 to 2592000 (30 days); default 86400.
    pub expires_in_s: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkView {
    pub url: String,
    pub expires_at: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// Expiry, seconds since the Unix epoch.
    pub expires: i64,
    /// The signature.
    pub sig: String,
}

/// Makes a signed link to one of the job's artifacts or to `archive.zip`.
#[utoipa::path(post, path = "/v1/jobs/{id}/links", tag = "artifacts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    request_body = CreateLink,
    responses((status = 201, body = LinkView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_link(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CreateLink>,
) -> Result<(StatusCode, Json<LinkView>), ApiError> {
    let link = make_link(&state, &user, &id, &request.artifact, request.expires_in_s).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

/// A signed link to `artifact` (or `archive.zip`) of a job the user may
/// see, working for `expires_in_s` (default a day, at most 30 days).
pub async fn make_link(
    state: &AppState,
    user: &AuthUser,
    job_id: &str,
    artifact: &str,
    expires_in_s: Option<u64>,
) -> Result<LinkView, ApiError> {
    let ttl = expires_in_s.unwrap_or(DEFAULT_TTL_S);
    if !(1..=MAX_TTL_S).contains(&ttl) {
        return Err(ApiError::unprocessable(format!(
            "expires_in_s must be 1 to {MAX_TTL_S}"
        )));
    }
    let job = visible_job(state, user, job_id).await?;
    let exists = if artifact == ARCHIVE {
        !state.engine.artifacts(&job.id).await?.is_empty()
    } else {
        state.engine.artifact(&job.id, artifact).await?.is_some()
    };
    if !exists {
        return Err(ApiError::not_found("artifact"));
    }
    let base = public_base(state)?;
    let expires = chrono::Utc::now().timestamp() + ttl as i64;
    let path = signed_path(&state.link_key, &job.id, artifact, expires);
    Ok(LinkView {
        url: format!("{base}{path}"),
        expires_at: rfc3339(expires * 1000),
    })
}

/// The path of a link to `name` of job `job_id` that works until `expires`
/// (seconds since the epoch).
fn signed_path(key: &[u8], job_id: &str, name: &str, expires: i64) -> String {
    let sig = signing::sign(key, &link_message(job_id, name, expires));
    format!("/v1/links/{job_id}/{name}?expires={expires}&sig={sig}")
}

/// Makes the links mails carry: to the ZIP of a job's results, at the
/// server's public address, working for a configured time.
pub struct ResultLinks {
    key: Vec<u8>,
    public_url: String,
    ttl: std::time::Duration,
}

impl ResultLinks {
    /// Signs with the key the server derives from `jwt_secret`, so that the
    /// server accepts links any node made.
    pub fn new(jwt_secret: &[u8], public_url: &str, ttl: std::time::Duration) -> Self {
        Self {
            key: crate::state::link_key(jwt_secret),
            public_url: public_url.trim_end_matches('/').to_owned(),
            ttl,
        }
    }
}

impl kinoflow_notify::DownloadLinks for ResultLinks {
    fn results_link(&self, job_id: &str) -> kinoflow_notify::DownloadLink {
        let expires = chrono::Utc::now().timestamp() + self.ttl.as_secs() as i64;
        let path = signed_path(&self.key, job_id, ARCHIVE, expires);
        kinoflow_notify::DownloadLink {
            url: format!("{}{path}", self.public_url),
            expires_at: expires,
        }
    }
}

/// Downloads what a signed link points at; no token needed.
#[utoipa::path(get, path = "/v1/links/{id}/{name}", tag = "artifacts",
    params(("id" = String, Path, description = "Job id"),
           ("name" = String, Path, description = "Artifact name, or archive.zip"),
           LinkQuery),
    responses((status = 200, description = "The artifact", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 307, description = "To the artifact in object storage, for a short while"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn follow_link(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    Query(query): Query<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let message = link_message(&id, &name, query.expires);
    if !signing::verify(&state.link_key, &message, &query.sig) {
        return Err(ApiError::forbidden("this link is not valid"));
    }
    let remaining_s = query.expires - chrono::Utc::now().timestamp();
    if remaining_s < 0 {
        return Err(ApiError::forbidden("this link has expired"));
    }
    if name == ARCHIVE {
        return serve_archive(&state, &id, &format!("{id}.zip"), str::to_owned).await;
    }
    let artifact = state
        .engine
        .artifact(&id, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("artifact"))?;
    let storage_ttl =
        std::time::Duration::from_secs(remaining_s.clamp(1, STORAGE_URL_TTL_S) as u64);
    if let Some(url) = state.engine.artifact_url(&artifact, storage_ttl).await? {
        return Ok(Redirect::temporary(&url).into_response());
    }
    serve_artifact(&state, &artifact, headers.get(header::RANGE)).await
}

/// The server's own address as clients reach it, for the links it hands
/// out; refused when the operator has not said it (see [`AppState::link_base`]).
pub fn public_base(state: &AppState) -> Result<&str, ApiError> {
    state.link_base.as_deref().ok_or_else(|| {
        ApiError::unavailable(
            "this server cannot make links: its operator has not set public_url \
             (KINOFLOW_PUBLIC_URL), the address clients reach it at",
            "public_url is not set",
        )
    })
}

/// What a share link signs: its job, its artifact and its expiry.
fn link_message(job_id: &str, name: &str, expires: i64) -> String {
    format!("link\n{job_id}\n{name}\n{expires}")
}
