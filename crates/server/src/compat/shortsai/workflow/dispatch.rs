//! One task at a time per project, in the original's order: queued music,
//! then each scene's queued image, audio and video in scene order; then,
//! while the project is generating, the first pending image, the first
//! pending audio, pending music. A task is a kinoflow job (so it is
//! retried, survives restarts and can be cancelled); the project row
//! names it. Every API node watches every second for tasks that ended and
//! projects with work to start; two nodes that start a project's task at
//! once are told apart by the row: the loser cancels its job and leaves
//! the statuses alone, the winner marks its asset `processing`.
//! When nothing is left, a generating project ends `completed`, or
//! `failed` when an asset failed.

use std::time::Duration;

use kinoflow_engine::store::JobNotices;
use kinoflow_engine::Submission;
use serde_json::{json, Value};

use super::tasks::finish;
use crate::compat::shortsai::records::{ProjectRow, Projects, SceneRow, Scenes, TaskKind};
use crate::compat::shortsai::renders::{scene_spec, HEIGHT, WIDTH};
use crate::compat::shortsai::vocabulary::{
    COMPLETED, FAILED, GENERATING, PENDING, PROCESSING, QUEUED,
};
use crate::error::ApiError;
use crate::state::AppState;

/// How often every project is looked at.
const POLL: Duration = Duration::from_secs(1);

/// Drives every project's tasks until the server shuts down. Call from
/// within the server's runtime.
pub fn drive_workflows(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let shutdown = state.shutdown.clone();
        loop {
            if let Err(e) = drive(&state).await {
                tracing::warn!(error = %e.describe(), "could not drive the ShortsAI workflows");
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.cancelled() => break,
            }
        }
    });
}

async fn drive(state: &AppState) -> Result<(), ApiError> {
    let projects = Projects(state.store.as_ref());
    for task in projects.ended_tasks().await? {
        if let Err(e) = finish(state, &task).await {
            tracing::warn!(project = %task.project_id, job = %task.job_id, error = %e.describe(),
                "could not finish a ShortsAI task");
        }
    }
    for id in projects.awaiting_dispatch().await? {
        if let Err(e) = dispatch_next(state, &id).await {
            tracing::warn!(project = %id, error = %e.describe(), "could not dispatch a ShortsAI task");
        }
    }
    Ok(())
}

/// A task to start: what it makes, for which scene.
struct Next<'a> {
    kind: TaskKind,
    scene: Option<&'a SceneRow>,
}

/// Starts the project's next task, unless it runs one; settles it when
/// there is nothing left to do.
pub async fn dispatch_next(state: &AppState, project_id: &str) -> Result<(), ApiError> {
    // Steps that need no job (a scene with nothing to say) are taken at
    // once; each settles one asset, so this ends.
    loop {
        let Some(project) = Projects(state.store.as_ref()).get(project_id).await? else {
            return Ok(());
        };
        if project.task_job_id.is_some() {
            return Ok(());
        }
        let scenes = Scenes(state.store.as_ref()).of_project(project_id).await?;
        let Some(next) = next_task(&project, &scenes) else {
            return settle(state, &project, &scenes).await;
        };
        if start(state, &project, &next).await? {
            return Ok(());
        }
    }
}

fn next_task<'a>(project: &ProjectRow, scenes: &'a [SceneRow]) -> Option<Next<'a>> {
    let music = project.bg_music_status.as_deref();
    if music == Some(QUEUED) {
        return Some(Next {
            kind: TaskKind::Music,
            scene: None,
        });
    }
    let kinds = [TaskKind::Image, TaskKind::Audio, TaskKind::Video];
    for scene in scenes {
        if let Some(&kind) = kinds.iter().find(|&&kind| scene.status(kind) == QUEUED) {
            return Some(Next {
                kind,
                scene: Some(scene),
            });
        }
    }
    if project.status != GENERATING {
        return None;
    }
    for kind in [TaskKind::Image, TaskKind::Audio, TaskKind::Video] {
        if let Some(scene) = scenes.iter().find(|scene| scene.status(kind) == PENDING) {
            return Some(Next {
                kind,
                scene: Some(scene),
            });
        }
    }
    (music == Some(PENDING)).then_some(Next {
        kind: TaskKind::Music,
        scene: None,
    })
}

/// Starts a task: whether a job now runs it (else it was settled at once).
async fn start(state: &AppState, project: &ProjectRow, next: &Next<'_>) -> Result<bool, ApiError> {
    let (projects, scenes) = (Projects(state.store.as_ref()), Scenes(state.store.as_ref()));
    let Some(scene) = next.scene else {
        // The OpenAI-compatible API has no music model, and kinoflow no
        // other music maker: music is given to a render as an upload.
        projects.set_music_status(&project.id, Some(FAILED)).await?;
        return Ok(false);
    };
    let (pipeline, params) = match job_for(state, scene, next.kind) {
        Ok(Some(job)) => job,
        Ok(None) => {
            scenes
                .set_status(&scene.id, next.kind, COMPLETED, false)
                .await?;
            return Ok(false);
        }
        Err(reason) => {
            scenes.fail(&scene.id, next.kind, &reason, 0).await?;
            return Ok(false);
        }
    };
    let submitted = state
        .engine
        .submit(Submission {
            owner_id: project.owner_id.clone(),
            pipeline: pipeline.to_owned(),
            upload_id: None,
            params,
            idempotency_key: None,
            notices: JobNotices::default(),
        })
        .await;
    let job = match submitted {
        Ok((job, _)) => job,
        Err(e) => {
            scenes
                .fail(&scene.id, next.kind, &ApiError::from(e).describe(), 0)
                .await?;
            return Ok(false);
        }
    };
    if projects
        .claim_task(&project.id, &job.id, next.kind, Some(&scene.id))
        .await?
    {
        scenes.mark_processing(&scene.id, next.kind).await?;
    } else {
        // Another node started this project's task first; statuses are
        // the winner's to set.
        state.engine.cancel(&job.id).await?;
    }
    Ok(true)
}

/// The pipeline and parameters of the job that makes `kind` for `scene`;
/// none when there is nothing to make; why it cannot be made.
fn job_for(
    state: &AppState,
    scene: &SceneRow,
    kind: TaskKind,
) -> Result<Option<(&'static str, Value)>, String> {
    match kind {
        TaskKind::Image => {
            let prompt = [&scene.visual_description, &scene.narration]
                .into_iter()
                .find(|text| !text.trim().is_empty())
                .ok_or("the scene has no visual description to draw")?;
            Ok(Some((
                "picture",
                json!({"prompt": prompt, "width": WIDTH, "height": HEIGHT}),
            )))
        }
        TaskKind::Audio => {
            if scene.narration.trim().is_empty() {
                return Ok(None);
            }
            let provider = state
                .ai
                .as_ref()
                .is_some_and(|ai| ai.speech_model.is_some());
            let engine = if provider { "provider" } else { "espeak-ng" };
            Ok(Some((
                "narration",
                json!({"text": scene.narration, "engine": engine}),
            )))
        }
        TaskKind::Video | TaskKind::Music => {
            if scene.image_upload_id.is_none() {
                return Err("the scene has no picture yet: generate its image first".to_owned());
            }
            let spec_scene = scene_spec(scene, false);
            Ok(Some((
                "render",
                json!({"width": WIDTH, "height": HEIGHT, "scenes": [spec_scene],
                       "transition": {"kind": "cut"}}),
            )))
        }
    }
}

/// A generating project with nothing left to start ends: `failed` when a
/// scene's asset failed, else `completed`. Music does not count: kinoflow
/// has no music model, so it always fails, saying so.
async fn settle(
    state: &AppState,
    project: &ProjectRow,
    scenes: &[SceneRow],
) -> Result<(), ApiError> {
    if project.status != GENERATING {
        return Ok(());
    }
    let kinds = [TaskKind::Image, TaskKind::Audio, TaskKind::Video];
    let statuses = scenes
        .iter()
        .flat_map(|scene| kinds.map(|kind| scene.status(kind).to_owned()));
    let mut failed = false;
    for status in statuses {
        if [PENDING, QUEUED, PROCESSING].contains(&status.as_str()) {
            return Ok(());
        }
        failed |= status == FAILED;
    }
    let end = if failed { FAILED } else { COMPLETED };
    Projects(state.store.as_ref())
        .set_status(&project.id, end)
        .await
}
