//! Asset URLs and the asset proxy. An asset is an upload (`uploads/<id>`)
//! or a job's artifact (`jobs/<job>/…`) of the caller's, and its URL is
//! `<public URL>/api/assets?url=<key>`. `GET /api/assets?url=` takes that
//! URL, or its key, and streams the file with Range, its type and long
//! cache headers. The original read any object of the bucket whatever host
//! the URL named; here a URL of another origin, a key of another user's
//! and anything else is 404, and nothing is ever fetched from elsewhere.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use kinoflow_engine::store::{ArtifactRecord, UploadRecord};

use super::error::{Caller, ShortsError};
use crate::auth::AuthUser;
use crate::compat::query::query_param;
use crate::error::ApiError;
use crate::shared::{Disposition, Download};
use crate::state::AppState;

/// The route assets are served at.
const PATH: &str = "/api/assets";
/// Keys name a file that never changes (a new asset gets a new key), so a
/// browser may keep it; only the caller's own browser (`private`).
const CACHE: &str = "private, max-age=31536000, immutable";
const NOT_FOUND: &str = "File not found in storage";

/// The URL of the asset at storage `key`.
pub fn url_of_key(state: &AppState, key: &str) -> String {
    let base = state.link_base.as_deref().unwrap_or_default();
    format!("{base}{PATH}?url={key}")
}

/// The URL of upload `upload_id`.
pub fn upload_url(state: &AppState, upload_id: &str) -> String {
    url_of_key(state, &format!("uploads/{upload_id}"))
}

/// The storage key `url` names: the key itself, or a URL of this server's
/// asset route; none for anything else (another host above all).
pub fn key_in(state: &AppState, url: &str) -> Option<String> {
    let url = url.trim();
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Some(url.trim_start_matches('/').to_owned());
    }
    let given = url::Url::parse(url).ok()?;
    let ours = url::Url::parse(state.link_base.as_deref()?).ok()?;
    if given.origin() != ours.origin() || given.path() != PATH {
        return None;
    }
    query_param(given.query(), "url")
}

/// The upload `url` names, when it names one.
pub fn upload_in(state: &AppState, url: &str) -> Option<String> {
    key_in(state, url)?
        .strip_prefix("uploads/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map(str::to_owned)
}

/// Streams an asset of the caller's.
#[utoipa::path(get, path = "/api/assets", tag = "shortsai", operation_id = "shortsai_assets_asset",
    security(("bearer" = [])),
    params(("url" = String, Query, description = "The asset's URL, as this API hands them out, or its storage key")),
    responses((status = 200, description = "The file"), (status = 206, description = "The range asked for"),
              (status = 400, description = "`{\"error\": \"URL is required\"}`"),
              (status = 404, description = "Not an asset of the caller's")))]
pub async fn asset(
    State(state): State<AppState>,
    Caller(user): Caller,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ShortsError> {
    let url = query_param(query.as_deref(), "url")
        .filter(|url| !url.trim().is_empty())
        .ok_or_else(|| ShortsError::bad_request("URL is required"))?;
    let key = key_in(&state, &url).ok_or_else(|| ShortsError::not_found(NOT_FOUND))?;
    let asset = owned_asset(&state, &user, &key)
        .await?
        .ok_or_else(|| ShortsError::not_found(NOT_FOUND))?;
    let download = asset.download();
    let range = download.range(headers.get(header::RANGE))?;
    let reader = match &asset {
        Asset::Upload(upload) => state.engine.read_upload(upload, range.clone()).await,
        Asset::Artifact(artifact) => state.engine.read_artifact(artifact, range.clone()).await,
    }
    .map_err(ApiError::from)?;
    let mut response = download.respond(reader, range);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    Ok(response)
}

/// A stored file of a user's.
enum Asset {
    Upload(UploadRecord),
    Artifact(ArtifactRecord),
}

impl Asset {
    fn download(&self) -> Download<'_> {
        let (name, content_type, size, sha256) = match self {
            Self::Upload(u) => (&u.filename, &u.content_type, u.size, &u.sha256),
            Self::Artifact(a) => (&a.name, &a.content_type, a.size, &a.sha256),
        };
        Download {
            name,
            content_type,
            size: size as u64,
            sha256,
            disposition: Disposition::Inline,
        }
    }
}

/// The file at `key`, when it is an upload or an artifact of `user`'s.
async fn owned_asset(
    state: &AppState,
    user: &AuthUser,
    key: &str,
) -> Result<Option<Asset>, ApiError> {
    if let Some(id) = key.strip_prefix("uploads/") {
        let upload = state.engine.upload(id).await?;
        return Ok(upload
            .filter(|upload| upload.owner_id == user.id && upload.blob_key == key)
            .map(Asset::Upload));
    }
    let Some(job_id) = key
        .strip_prefix("jobs/")
        .and_then(|rest| rest.split('/').next())
    else {
        return Ok(None);
    };
    let Some(job) = state.engine.job(job_id).await? else {
        return Ok(None);
    };
    if job.owner_id != user.id {
        return Ok(None);
    }
    let artifacts = state.engine.artifacts(job_id).await?;
    Ok(artifacts
        .into_iter()
        .find(|artifact| artifact.blob_key == key)
        .map(Asset::Artifact))
}
