//! What an ended task leaves: its job's file becomes an upload of the
//! project owner's (the scene's asset, which a render can name), a
//! narration's word times and length go on the scene; a task that failed
//! for good fails its asset and the project, as the original's did.

use kinoflow_engine::store::{ArtifactRecord, JobRecord, JobState, UploadRecord};
use kinoflow_engine::NewUpload;
use kinoflow_pipelines::artifacts::{narration, picture, render};
use serde_json::Value;
use tokio::io::AsyncReadExt;

use super::dispatch::dispatch_next;
use crate::compat::shortsai::records::{ProjectRow, Projects, SceneRow, Scenes, Task, TaskKind};
use crate::compat::shortsai::vocabulary::{FAILED, PENDING, PROCESSING, QUEUED};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest a narration's timing file may be.
const MOST_TIMING_BYTES: u64 = 4 << 20;

/// Takes what the task's job left, once (the node that releases the task
/// does), and starts the project's next task.
pub async fn finish(state: &AppState, task: &Task) -> Result<(), ApiError> {
    let projects = Projects(state.store.as_ref());
    if !projects
        .release_task(&task.project_id, &task.job_id)
        .await?
    {
        return Ok(());
    }
    if let Err(e) = take(state, task).await {
        // The task is released: its asset must not wait for it any more.
        tracing::warn!(project = %task.project_id, error = %e.describe(), "could not take a task's result");
        if let (Some(scene), Some(kind)) = (&task.scene_id, TaskKind::parse(&task.kind)) {
            let failed = Scenes(state.store.as_ref())
                .fail(scene, kind, &e.describe(), 0)
                .await;
            if let Err(e) = failed {
                tracing::warn!(scene, error = %e.describe(), "could not fail a task's asset");
            }
        }
    }
    dispatch_next(state, &task.project_id).await
}

/// Applies the result of the released task's job to its asset.
async fn take(state: &AppState, task: &Task) -> Result<(), ApiError> {
    let projects = Projects(state.store.as_ref());
    let job = state.engine.job(&task.job_id).await?;
    let (Some(project), Some(kind)) = (
        projects.get(&task.project_id).await?,
        TaskKind::parse(&task.kind),
    ) else {
        return Ok(());
    };
    let scenes = Scenes(state.store.as_ref());
    let scene = match &task.scene_id {
        Some(id) => scenes.get(id).await?,
        None => None,
    };
    let succeeded = job
        .as_ref()
        .is_some_and(|job| job.state == JobState::Succeeded);
    if let Some(scene) = scene.filter(|scene| wants_result(scene.status(kind), succeeded)) {
        take_result(state, &project, &scene, kind, job.as_ref()).await?;
    }
    Ok(())
}

/// Whether an asset in `status` takes its task's result. A cancelled or
/// failed asset wants none. A made asset is taken while still `pending`
/// or `queued` too (a fast job can end before its dispatcher marks it
/// `processing`), a failure only while `processing` (a `queued` asset
/// after a cancel is to be made again, not failed by the cancelled job).
fn wants_result(status: &str, succeeded: bool) -> bool {
    status == PROCESSING || (succeeded && [PENDING, QUEUED].contains(&status))
}

async fn take_result(
    state: &AppState,
    project: &ProjectRow,
    scene: &SceneRow,
    kind: TaskKind,
    job: Option<&JobRecord>,
) -> Result<(), ApiError> {
    let scenes = Scenes(state.store.as_ref());
    let Some(job) = job else {
        return scenes
            .fail(&scene.id, kind, "the task's job was deleted", 0)
            .await;
    };
    if job.state == JobState::Succeeded {
        if let Err(reason) = keep_result(state, project, scene, kind, job).await {
            scenes.fail(&scene.id, kind, &reason, job.attempts).await?;
        }
        return Ok(());
    }
    let error = job.error.clone().unwrap_or_else(|| "cancelled".to_owned());
    scenes.fail(&scene.id, kind, &error, job.attempts).await?;
    if job.state == JobState::Failed {
        Projects(state.store.as_ref())
            .set_status(&project.id, FAILED)
            .await?;
    }
    Ok(())
}

/// Makes the job's file the scene's asset; why it could not.
async fn keep_result(
    state: &AppState,
    project: &ProjectRow,
    scene: &SceneRow,
    kind: TaskKind,
    job: &JobRecord,
) -> Result<(), String> {
    let names: &[&str] = match kind {
        TaskKind::Image => &picture::ALL,
        TaskKind::Audio => &[narration::AUDIO],
        TaskKind::Video | TaskKind::Music => &[render::VIDEO],
    };
    let artifacts = state
        .engine
        .artifacts(&job.id)
        .await
        .map_err(|e| e.to_string())?;
    let artifact = artifacts
        .iter()
        .find(|a| names.contains(&a.name.as_str()))
        .ok_or("the job left no file")?;
    let scenes = Scenes(state.store.as_ref());
    if kind == TaskKind::Audio {
        let (words, duration) = narration_timing(state, &artifacts).await?;
        scenes
            .set_timing(&scene.id, &words.to_string(), duration)
            .await
            .map_err(|e| e.describe())?;
    }
    let filename = format!("scene-{}-{}", scene.scene_number, artifact.name);
    let upload = copy_to_upload(state, &project.owner_id, artifact, &filename).await?;
    scenes
        .complete(&scene.id, kind, &upload.id, job.attempts)
        .await
        .map_err(|e| e.describe())?;
    if let Some(old) = scene.upload(kind) {
        // A render that still names the old one keeps it until it ends.
        if let Err(e) = state.engine.delete_upload(old).await {
            tracing::warn!(upload = old, error = %e, "could not delete a replaced asset");
        }
    }
    Ok(())
}

/// A narration's word times (JSON) and its length in seconds.
async fn narration_timing(
    state: &AppState,
    artifacts: &[ArtifactRecord],
) -> Result<(Value, f64), String> {
    let timing = artifacts
        .iter()
        .find(|a| a.name == narration::TIMING)
        .ok_or("the narration has no timing")?;
    let mut reader = state
        .engine
        .read_artifact(timing, None)
        .await
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    (&mut reader)
        .take(MOST_TIMING_BYTES)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| e.to_string())?;
    let timing: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let duration = timing["duration_s"].as_f64().unwrap_or(0.0);
    Ok((timing["words"].clone(), (duration * 100.0).round() / 100.0))
}

/// An upload of `owner_id`'s holding a copy of `artifact`.
async fn copy_to_upload(
    state: &AppState,
    owner_id: &str,
    artifact: &ArtifactRecord,
    filename: &str,
) -> Result<UploadRecord, String> {
    let mut reader = state
        .engine
        .read_artifact(artifact, None)
        .await
        .map_err(|e| e.to_string())?;
    let new = NewUpload {
        owner_id: owner_id.to_owned(),
        filename: filename.to_owned(),
        content_type: artifact.content_type.clone(),
    };
    state
        .engine
        .put_upload(new, &mut reader, None)
        .await
        .map_err(|e| e.to_string())
}
