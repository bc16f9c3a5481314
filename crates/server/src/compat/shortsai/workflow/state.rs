//! `GET /api/workflow/state/{projectId}`: where a project's generation
//! stands, with its assets' URLs, for clients that poll. The original
//! served it to anyone; here only to the project's owner.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::compat::shortsai::assets::upload_url;
use crate::compat::shortsai::error::{Caller, ShortsError};
use crate::compat::shortsai::projects::owned_project;
use crate::compat::shortsai::records::{ProjectRow, SceneRow, Scenes, TaskKind};
use crate::compat::shortsai::views::word_timings;
use crate::compat::shortsai::vocabulary::GENERATING;
use crate::state::AppState;

/// A project's generation.
#[utoipa::path(get, path = "/api/workflow/state/{projectId}", tag = "shortsai", operation_id = "shortsai_state", security(("bearer" = [])),
    params(("projectId" = String, Path, description = "The project")),
    responses((status = 200, description = "`{projectStatus, scenes, music_status, music_url, generationMessage}`"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn state(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(project_id): Path<String>,
) -> Result<Json<Value>, ShortsError> {
    let project = owned_project(&state, &user, &project_id).await?;
    let scenes = Scenes(state.store.as_ref()).of_project(&project_id).await?;
    let url = |upload: &Option<String>| upload.as_deref().map(|id| upload_url(&state, id));
    let scene_states: Vec<Value> = scenes
        .iter()
        .map(|scene| {
            json!({
                "id": scene.id,
                "scene_number": scene.scene_number,
                "image_status": scene.image_status,
                "audio_status": scene.audio_status,
                "image_url": url(&scene.image_upload_id),
                "audio_url": url(&scene.audio_upload_id),
                "error": scene.error_message,
                "visual_description": scene.visual_description,
                "narration": scene.narration,
                "wordTimings": word_timings(scene),
                "video_status": scene.video_status,
                "video_url": url(&scene.video_upload_id),
                "media_type": scene.media_type,
            })
        })
        .collect();
    Ok(Json(json!({
        "projectStatus": project.status,
        "scenes": scene_states,
        "music_status": project.bg_music_status,
        "music_url": url(&project.bg_music_upload_id),
        "generationMessage": generation_message(&project, &scenes),
    })))
}

/// What is being made, while the project is generating; empty otherwise.
pub fn generation_message(project: &ProjectRow, scenes: &[SceneRow]) -> String {
    if project.status != GENERATING {
        return String::new();
    }
    let kind = project.task_kind.as_deref().and_then(TaskKind::parse);
    let scene = scenes
        .iter()
        .find(|scene| Some(&scene.id) == project.task_scene_id.as_ref());
    match (kind, scene) {
        (Some(TaskKind::Image), Some(s)) => {
            format!("Generating Image for Scene {}...", s.scene_number)
        }
        (Some(TaskKind::Audio), Some(s)) => {
            format!("Generating Audio for Scene {}...", s.scene_number)
        }
        (Some(TaskKind::Video), Some(s)) => {
            format!("Generating Video for Scene {}...", s.scene_number)
        }
        (Some(TaskKind::Music), _) => "Generating Background Music...".to_owned(),
        _ => String::new(),
    }
}
