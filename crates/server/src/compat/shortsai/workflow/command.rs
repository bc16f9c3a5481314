//! `POST /api/workflow/command`: an action on a project's generation,
//! answered at once; the work happens in the project's tasks. The
//! original answered 500 to an unknown action, a missing `sceneId` and a
//! scene of another project, and let any scene id through: here each is a
//! 400, and the scene must be one of the project's.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::dispatch::dispatch_next;
use crate::compat::shortsai::error::{json_body, Caller, ShortsError};
use crate::compat::shortsai::projects::owned_project;
use crate::compat::shortsai::records::{ProjectRow, Projects, SceneRow, Scenes, TaskKind};
use crate::compat::shortsai::vocabulary::{
    COMPLETED, DRAFT, FAILED, GENERATING, LOADING, PAUSED, PENDING, PROCESSING, QUEUED,
};
use crate::error::ApiError;
use crate::state::AppState;

/// What a command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    GenerateAll,
    GenerateAllImages,
    GenerateAllAudio,
    /// One asset of one scene, again.
    Asset(TaskKind),
    GenerateMusic,
    Pause,
    Resume,
    Cancel,
    SkipScene,
}

impl Action {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "generate_all" => Self::GenerateAll,
            "generate_all_images" => Self::GenerateAllImages,
            "generate_all_audio" => Self::GenerateAllAudio,
            "generate_image" | "regenerate_image" => Self::Asset(TaskKind::Image),
            "generate_audio" | "regenerate_audio" => Self::Asset(TaskKind::Audio),
            "generate_video" | "regenerate_video" => Self::Asset(TaskKind::Video),
            "generate_music" => Self::GenerateMusic,
            "pause" => Self::Pause,
            "resume" => Self::Resume,
            "cancel" => Self::Cancel,
            "skip_scene" => Self::SkipScene,
            _ => return None,
        })
    }

    fn needs_scene(self) -> bool {
        matches!(self, Self::Asset(_) | Self::SkipScene)
    }

    /// The original's answer.
    fn message(self) -> &'static str {
        match self {
            Self::GenerateAll => "Generation started",
            Self::GenerateAllImages => "Image generation started",
            Self::GenerateAllAudio => "Audio generation started",
            Self::Asset(TaskKind::Image) => "image queued",
            Self::Asset(TaskKind::Audio) => "audio queued",
            Self::Asset(_) => "Video generation started (Async)",
            Self::GenerateMusic => "Music queued",
            Self::Pause => "Generation paused",
            Self::Resume => "Generation resumed",
            Self::Cancel => "Generation cancelled",
            Self::SkipScene => "Scene skipped",
        }
    }
}

/// The statuses `generate_all` sends back to `pending` without `force`.
const REDOABLE: [&str; 4] = [DRAFT, PROCESSING, LOADING, FAILED];
/// What a user's cancel stops.
const UNFINISHED: [&str; 4] = [PENDING, QUEUED, PROCESSING, LOADING];

/// Acts on a project's generation.
#[utoipa::path(post, path = "/api/workflow/command", tag = "shortsai", operation_id = "shortsai_command", security(("bearer" = [])),
    request_body = Value,
    responses((status = 200, description = "`{\"message\": …}`"),
              (status = 400, description = "`{\"error\": …}`: a field missing, an unknown action, a scene not of the project"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn command(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let body = json_body(&body)?;
    let (Some(project_id), Some(action)) = (body["projectId"].as_str(), body["action"].as_str())
    else {
        return Err(ShortsError::bad_request("Missing projectId or action"));
    };
    let project = owned_project(&state, &user, project_id).await?;
    let action = Action::parse(action)
        .ok_or_else(|| ShortsError::bad_request(format!("Unknown action: {action}")))?;
    let scene = if action.needs_scene() {
        Some(scene_of(&state, &project, body["sceneId"].as_str()).await?)
    } else {
        None
    };
    let force = body["force"].as_bool().unwrap_or(false);
    act(&state, &project, action, scene.as_ref(), force).await?;
    // The commands are done; the next task may also be started by any
    // node's watcher within a second, so a failure here is only logged.
    if let Err(e) = dispatch_next(&state, &project.id).await {
        tracing::warn!(project = %project.id, error = %e.describe(), "could not dispatch a task");
    }
    Ok(Json(json!({ "message": action.message() })))
}

/// The project's scene `id`; 400 when there is none or it is another's.
async fn scene_of(
    state: &AppState,
    project: &ProjectRow,
    id: Option<&str>,
) -> Result<SceneRow, ShortsError> {
    let id = id.ok_or_else(|| ShortsError::bad_request("sceneId is required for this action"))?;
    Scenes(state.store.as_ref())
        .get(id)
        .await?
        .filter(|scene| scene.project_id == project.id && scene.deleted_at.is_none())
        .ok_or_else(|| ShortsError::bad_request("Scene not found in this project"))
}

async fn act(
    state: &AppState,
    project: &ProjectRow,
    action: Action,
    scene: Option<&SceneRow>,
    force: bool,
) -> Result<(), ApiError> {
    let (projects, scenes) = (Projects(state.store.as_ref()), Scenes(state.store.as_ref()));
    let id = project.id.as_str();
    match (action, scene) {
        (Action::GenerateAll, _) => {
            rearm(state, project, TaskKind::Image, force).await?;
            rearm(state, project, TaskKind::Audio, force).await?;
            rearm_music(state, project, force).await?;
            projects.set_status(id, GENERATING).await
        }
        (Action::GenerateAllImages, _) => {
            rearm(state, project, TaskKind::Image, force).await?;
            projects.set_status(id, GENERATING).await
        }
        (Action::GenerateAllAudio, _) => {
            rearm(state, project, TaskKind::Audio, force).await?;
            projects.set_status(id, GENERATING).await
        }
        (Action::Asset(kind), Some(scene)) => {
            scenes.set_status(&scene.id, kind, QUEUED, force).await
        }
        (Action::GenerateMusic, _) => projects.set_music_status(id, Some(QUEUED)).await,
        (Action::Pause, _) => projects.set_status(id, PAUSED).await,
        (Action::Resume, _) => {
            // Work marked as running while no task runs was cut short.
            if project.task_job_id.is_none() {
                let stuck = [PROCESSING, LOADING];
                scenes
                    .set_statuses(id, TaskKind::Image, &stuck, PENDING, false)
                    .await?;
                scenes
                    .set_statuses(id, TaskKind::Audio, &stuck, PENDING, false)
                    .await?;
                scenes
                    .set_statuses(id, TaskKind::Video, &stuck, QUEUED, false)
                    .await?;
            }
            projects.set_status(id, GENERATING).await
        }
        (Action::Cancel, _) => cancel(state, project).await,
        (Action::SkipScene, Some(scene)) => scenes.skip(&scene.id).await,
        (Action::Asset(_) | Action::SkipScene, None) => Ok(()),
    }
}

/// Sends a kind of asset of every scene back to `pending`: all of them
/// with `force`, else those not made or cut short.
async fn rearm(
    state: &AppState,
    project: &ProjectRow,
    kind: TaskKind,
    force: bool,
) -> Result<(), ApiError> {
    let from: &[&str] = if force { &[] } else { &REDOABLE };
    Scenes(state.store.as_ref())
        .set_statuses(&project.id, kind, from, PENDING, true)
        .await
}

/// The project's music, when it has music, back to `pending` likewise.
async fn rearm_music(state: &AppState, project: &ProjectRow, force: bool) -> Result<(), ApiError> {
    let redo = match project.bg_music_status.as_deref() {
        _ if project.include_music == 0 => false,
        _ if force => true,
        None => true,
        Some(status) => [DRAFT, LOADING, FAILED].contains(&status),
    };
    if redo {
        Projects(state.store.as_ref())
            .set_music_status(&project.id, Some(PENDING))
            .await?;
    }
    Ok(())
}

/// Stops the project: it fails, so does every asset not made yet, and the
/// running task's job is cancelled (the original let it run on).
async fn cancel(state: &AppState, project: &ProjectRow) -> Result<(), ApiError> {
    let projects = Projects(state.store.as_ref());
    projects.set_status(&project.id, FAILED).await?;
    Scenes(state.store.as_ref())
        .fail_unfinished(&project.id, "Cancelled by user")
        .await?;
    let music = project.bg_music_status.as_deref().unwrap_or(COMPLETED);
    if UNFINISHED.contains(&music) {
        projects.set_music_status(&project.id, Some(FAILED)).await?;
    }
    if let Some(job_id) = &project.task_job_id {
        // The project and its assets are failed already; a job that could
        // not be told now still ends, and its result is not taken.
        if let Err(e) = state.engine.cancel(job_id).await {
            tracing::warn!(job = %job_id, error = %e, "could not cancel a cancelled project's task");
        }
    }
    Ok(())
}
