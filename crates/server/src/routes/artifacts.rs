//! A job's results: listed, downloaded whole or by byte range, or all at once
//! as a ZIP that is streamed as it is written.

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kinoflow_engine::store::ArtifactRecord;
use kinoflow_engine::{validate_artifact_name, Engine};
use serde::Serialize;
use tokio_util::compat::FuturesAsyncWriteCompatExt;
use tokio_util::io::ReaderStream;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{code, ApiError, ErrorBody};
use crate::shared::visible_job;
use crate::state::AppState;
use crate::views::ArtifactView;

#[derive(Serialize, ToSchema)]
pub struct ArtifactList {
    pub artifacts: Vec<ArtifactView>,
}

/// The job's artifacts.
#[utoipa::path(get, path = "/v1/jobs/{id}/artifacts", tag = "artifacts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = ArtifactList), (status = 404, body = ErrorBody)))]
pub async fn list_artifacts(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ArtifactList>, ApiError> {
    let job = visible_job(&state, &user, &id).await?;
    let artifacts = state.engine.artifacts(&job.id).await?;
    Ok(Json(ArtifactList {
        artifacts: artifacts.into_iter().map(ArtifactView::from).collect(),
    }))
}

/// Downloads one artifact; honours a single `Range: bytes=…`.
#[utoipa::path(get, path = "/v1/jobs/{id}/artifacts/{name}", tag = "artifacts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id"),
           ("name" = String, Path, description = "Artifact name"),
           ("Range" = Option<String>, Header, description = "bytes=START-END")),
    responses((status = 200, description = "The artifact", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 206, description = "Part of the artifact", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
pub async fn get_artifact(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !validate_artifact_name(&name) {
        return Err(ApiError::not_found("artifact"));
    }
    let job = visible_job(&state, &user, &id).await?;
    let artifact = state
        .engine
        .artifact(&job.id, &name)
        .await?
        .ok_or_else(|| ApiError::not_found("artifact"))?;
    serve_artifact(&state, &artifact, headers.get(header::RANGE)).await
}

/// Streams an artifact, whole or the one range asked for.
pub async fn serve_artifact(
    state: &AppState,
    artifact: &ArtifactRecord,
    range: Option<&HeaderValue>,
) -> Result<Response, ApiError> {
    let size = artifact.size as u64;
    let range = range
        .map(|value| requested_range(value, size))
        .transpose()?;
    let reader = state.engine.read_artifact(artifact, range.clone()).await?;
    let mut response = Response::new(Body::from_stream(ReaderStream::new(reader)));
    let headers = response.headers_mut();
    let mut set = |name, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, artifact.content_type.clone());
    set(header::ACCEPT_RANGES, "bytes".to_owned());
    set(header::ETAG, format!("\"{}\"", artifact.sha256));
    set(
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{}\"", artifact.name),
    );
    match range {
        Some(range) => {
            set(
                header::CONTENT_LENGTH,
                (range.end - range.start).to_string(),
            );
            set(
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", range.start, range.end - 1),
            );
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        None => set(header::CONTENT_LENGTH, size.to_string()),
    }
    Ok(response)
}

/// The byte range a `Range` header asks for, as `start..end`.
fn requested_range(value: &HeaderValue, size: u64) -> Result<std::ops::Range<u64>, ApiError> {
    let unsatisfiable = || {
        ApiError::new(
            code::RANGE_NOT_SATISFIABLE,
            format!("the range is outside the artifact's {size} bytes, or has more than one part"),
        )
    };
    let text = value.to_str().map_err(|_| unsatisfiable())?;
    let ranges = http_range_header::parse_range_header(text)
        .and_then(|parsed| parsed.validate(size))
        .map_err(|_| unsatisfiable())?;
    match ranges.as_slice() {
        [one] => Ok(*one.start()..*one.end() + 1),
        _ => Err(unsatisfiable()),
    }
}

/// All the job's artifacts in one ZIP, streamed as it is written.
#[utoipa::path(get, path = "/v1/jobs/{id}/archive.zip", tag = "artifacts", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "A ZIP of every artifact", content_type = "application/zip", body = Vec<u8>),
              (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = visible_job(&state, &user, &id).await?;
    serve_archive(&state, &job.id, &format!("{}.zip", job.id), str::to_owned).await
}

/// Streams a ZIP of all the job's artifacts, downloaded as `zip_name`, each
/// entry named by `entry_name` from the artifact's name.
pub async fn serve_archive(
    state: &AppState,
    job_id: &str,
    zip_name: &str,
    entry_name: fn(&str) -> String,
) -> Result<Response, ApiError> {
    let artifacts = state.engine.artifacts(job_id).await?;
    if artifacts.is_empty() {
        return Err(ApiError::not_found("artifacts of this job"));
    }
    let (writer, reader) = tokio::io::duplex(256 * 1024);
    let engine = state.engine.clone();
    let job_id = job_id.to_owned();
    let disposition = format!("attachment; filename=\"{zip_name}\"");
    tokio::spawn(async move {
        if let Err(e) = write_zip(writer, engine, artifacts, entry_name).await {
            tracing::warn!(job_id, error = %e, "archive stream stopped");
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(ReaderStream::new(reader)),
    )
        .into_response())
}

async fn write_zip(
    writer: tokio::io::DuplexStream,
    engine: Engine,
    artifacts: Vec<ArtifactRecord>,
    entry_name: fn(&str) -> String,
) -> anyhow::Result<()> {
    let mut zip = ZipFileWriter::with_tokio(writer);
    for artifact in artifacts {
        let entry = ZipEntryBuilder::new(
            entry_name(&artifact.name).into(),
            compression_for(&artifact),
        );
        let mut entry_writer = zip.write_entry_stream(entry).await?.compat_write();
        let mut blob = engine.read_artifact(&artifact, None).await?;
        tokio::io::copy(&mut blob, &mut entry_writer).await?;
        entry_writer.into_inner().close().await?;
    }
    zip.close().await?;
    Ok(())
}

/// Media is already compressed: store it as is, deflate the rest.
fn compression_for(artifact: &ArtifactRecord) -> Compression {
    let already_compressed = artifact.content_type.starts_with("image/")
        || artifact.content_type.starts_with("video/")
        || artifact.content_type.starts_with("audio/")
        || artifact.content_type == "application/zip";
    if already_compressed {
        Compression::Stored
    } else {
        Compression::Deflate
    }
}
