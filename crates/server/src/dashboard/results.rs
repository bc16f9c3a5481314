//! A job's results as people want to see them: pictures and charts inline,
//! videos in a player that seeks (the artifact route answers ranges), CSV
//! as a sortable table with a chart of its numeric columns, JSON
//! pretty-printed, extracted frames as a gallery; each file to download,
//! and the ZIP of them all.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use kinoflow_engine::store::{ArtifactRecord, JobRecord};
use kinoflow_pipelines::artifacts::frames::{FRAMES_ZIP, MANIFEST};
use maud::{html, Markup};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use crate::error::ApiError;
use crate::shared::visible_job;
use crate::state::AppState;

use super::browser::SignedIn;
use super::page;
use super::zip_entry;

/// How many frames the gallery shows.
const GALLERY_FRAMES: usize = 24;
/// The largest manifest read for the gallery.
const MAX_MANIFEST: i64 = 4 * 1024 * 1024;

fn artifact_url(job_id: &str, name: &str) -> String {
    format!("/v1/jobs/{job_id}/artifacts/{name}")
}

/// The results section of a job that succeeded, with the form that shares
/// them (`csrf` is the viewer's token).
pub async fn section(state: &AppState, job: &JobRecord, csrf: &str) -> Result<Markup, ApiError> {
    let artifacts = state.engine.artifacts(&job.id).await?;
    let gallery = match artifacts.iter().find(|a| a.name == MANIFEST) {
        Some(manifest) if artifacts.iter().any(|a| a.name == FRAMES_ZIP) => {
            frame_gallery(state, job, manifest).await
        }
        _ => html! {},
    };
    Ok(html! {
        h2 { "Results" }
        (gallery)
        @for artifact in &artifacts {
            (shown(job, artifact))
        }
        section.card aria-labelledby="files-heading" {
            h2 #files-heading { "Files" }
            ul.files {
                @for artifact in &artifacts {
                    li {
                        a href=(artifact_url(&job.id, &artifact.name)) download=(artifact.name) { (artifact.name) }
                        " " span.help { (artifact.content_type) ", " (page::size(artifact.size)) }
                    }
                }
            }
            @if !artifacts.is_empty() {
                p { a.button #download-zip href={"/v1/jobs/" (job.id) "/archive.zip"} download { "Download everything (ZIP)" } }
            }
        }
        @if !artifacts.is_empty() {
            (share_form(job, csrf))
        }
    })
}

fn share_form(job: &JobRecord, csrf: &str) -> Markup {
    html! {
        section.card aria-labelledby="share-heading" {
            h2 #share-heading { "Share" }
            form method="post" action={"/jobs/" (job.id) "/share"} {
                (page::csrf_field(csrf))
                div.field {
                    label for="share-ttl" { "A link that works without signing in, for" }
                    select #share-ttl name="expires_in_s" {
                        option value="3600" { "an hour" }
                        option value="86400" selected { "a day" }
                        option value="604800" { "a week" }
                        option value="2592000" { "30 days" }
                    }
                }
                button type="submit" { "Make a link to the ZIP" }
            }
        }
    }
}

/// One artifact as it is best looked at, or nothing when a download is all
/// it can be.
fn shown(job: &JobRecord, artifact: &ArtifactRecord) -> Markup {
    let url = artifact_url(&job.id, &artifact.name);
    let kind = artifact.content_type.as_str();
    html! {
        @if kind.starts_with("image/") {
            figure.card {
                img src=(url) alt=(artifact.name) loading="lazy";
                figcaption { (artifact.name) }
            }
        } @else if kind.starts_with("video/") {
            figure.card {
                video src=(url) controls preload="metadata" playsinline data-name=(artifact.name) {}
                figcaption { (artifact.name) }
            }
        } @else if kind.starts_with("audio/") {
            figure.card {
                audio src=(url) controls preload="metadata" {}
                figcaption { (artifact.name) }
            }
        } @else if kind.starts_with("text/csv") {
            figure.card.csv data-src=(url) data-name=(artifact.name) data-size=(artifact.size) {
                figcaption { (artifact.name) }
                p.help { "Loading the table…" }
            }
        } @else if kind.starts_with("application/json") && artifact.name != MANIFEST {
            figure.card.json data-name=(artifact.name) {
                figcaption { (artifact.name) }
                pre.json data-src=(url) data-size=(artifact.size) tabindex="0" aria-label=(artifact.name) { "…" }
            }
        }
    }
}

/// The first frames of a `frames` job, each opening at full size.
async fn frame_gallery(state: &AppState, job: &JobRecord, manifest: &ArtifactRecord) -> Markup {
    let frames = match read_manifest(state, manifest).await {
        Ok(frames) => frames,
        Err(e) => {
            tracing::warn!(job_id = %job.id, error = %e.describe(), "the frame gallery could not read the manifest");
            return html! {};
        }
    };
    html! {
        section.card aria-labelledby="frames-heading" {
            h2 #frames-heading { "Frames" }
            p.help { (frames.len()) " frames; the first " (frames.len().min(GALLERY_FRAMES)) " shown. Open one to see it whole." }
            ul.gallery {
                @for frame in frames.iter().take(GALLERY_FRAMES) {
                    @let index = frame["index"].as_u64().unwrap_or_default();
                    @let time = frame["timestamp_s"].as_f64().unwrap_or_default();
                    @let url = format!("/jobs/{}/frames/{index}", job.id);
                    li {
                        a.frame href=(url) aria-label={"Frame " (index) " at " (format!("{time:.3}")) " s"} {
                            img src=(url) alt={"Frame " (index) " at " (format!("{time:.3}")) " s"} loading="lazy";
                        }
                    }
                }
            }
        }
    }
}

async fn read_manifest(
    state: &AppState,
    manifest: &ArtifactRecord,
) -> Result<Vec<Value>, ApiError> {
    if manifest.size > MAX_MANIFEST {
        return Ok(Vec::new());
    }
    let bytes = read_whole(state, manifest).await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
    Ok(value["frames"].as_array().cloned().unwrap_or_default())
}

async fn read_whole(state: &AppState, artifact: &ArtifactRecord) -> Result<Vec<u8>, ApiError> {
    let mut reader = state.engine.read_artifact(artifact, None).await?;
    let mut bytes = Vec::with_capacity(artifact.size.max(0) as usize);
    reader
        .read_to_end(&mut bytes)
        .await
        .map_err(ApiError::internal)?;
    Ok(bytes)
}

/// `GET /jobs/{id}/frames/{index}`: one frame out of the job's frames ZIP.
pub async fn frame(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, index)): Path<(String, u64)>,
) -> Response {
    match read_frame(&state, &signed_in, &id, index).await {
        Ok((name, bytes)) => {
            let content_type = mime_guess::from_path(&name).first_or_octet_stream();
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_str(content_type.as_ref())
                            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                    ),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("private, max-age=3600"),
                    ),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => page::api_error(&e),
    }
}

async fn read_frame(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    index: u64,
) -> Result<(String, Vec<u8>), ApiError> {
    let job = visible_job(state, &signed_in.user, id).await?;
    let manifest = state
        .engine
        .artifact(&job.id, MANIFEST)
        .await?
        .ok_or_else(|| ApiError::not_found("frame"))?;
    let frames = read_manifest(state, &manifest).await?;
    let name = frames
        .iter()
        .find(|frame| frame["index"].as_u64() == Some(index))
        .and_then(|frame| frame["file"].as_str())
        .ok_or_else(|| ApiError::not_found("frame"))?
        .to_owned();
    let zip = state
        .engine
        .artifact(&job.id, FRAMES_ZIP)
        .await?
        .ok_or_else(|| ApiError::not_found("frame"))?;
    let bytes = zip_entry::read_entry(&state.engine, &zip, &name).await?;
    Ok((name, bytes))
}
