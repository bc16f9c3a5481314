//! A job's results: listed, downloaded whole or by byte range, or all at once
//! as a ZIP that is streamed as it is written.

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kinoflow_engine::store::ArtifactRecord;
use kinoflow_engine::{validate_artifact_name, Engine};
use serde::Serialize;
use tokio_util::compat::FuturesAsyncWriteCompatExt;
use tokio_util::io::ReaderStream;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::shared::{visible_job, Disposition, Download};
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
    let download = Download {
        name: &artifact.name,
        content_type: &artifact.content_type,
        size: artifact.size as u64,
        sha256: &artifact.sha256,
        disposition: Disposition::Attachment,
    };
    let range = download.range(range)?;
    let reader = state.engine.read_artifact(artifact, range.clone()).await?;
    Ok(download.respond(reader, range))
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
