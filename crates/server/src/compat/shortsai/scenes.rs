//! `/api/scenes`: a project's scenes, edited one by one, and where each
//! scene's files are (`/media`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::assets::upload_url;
use super::body::Fields;
use super::error::{json_body, Caller, ShortsError};
use super::projects::owned_project;
use super::records::{NewScene, ProjectRow, SceneEdit, SceneRow, Scenes};
use super::views;
use super::vocabulary::ASSET_STATUSES;
use crate::auth::AuthUser;
use crate::state::AppState;

/// How long a scene lasts when nothing says: the original's default.
const DEFAULT_DURATION_S: f64 = 5.0;
/// The longest a scene may be said to last (`Decimal(5,2)`).
const LONGEST_S: f64 = 999.99;

/// Adds a scene to one of the caller's projects, or rewrites the scene
/// of that number when there is one, as the original did.
#[utoipa::path(post, path = "/api/scenes", tag = "shortsai", operation_id = "shortsai_scenes_create", security(("bearer" = [])),
    request_body = Value,
    responses((status = 200, description = "The scene"),
              (status = 400, description = "`{\"error\": \"Missing required fields\"}`, or a field of the wrong type"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let body = json_body(&body)?;
    let fields = Fields::of(&body)?;
    let required = [
        "project_id",
        "scene_number",
        "visual_description",
        "narration",
        "duration_seconds",
    ];
    if !required.iter().all(|name| fields.has(name)) {
        return Err(ShortsError::bad_request("Missing required fields"));
    }
    let project_id = fields.required_text("project_id")?;
    owned_project(&state, &user, &project_id).await?;
    let edit = SceneEdit {
        scene_number: scene_number(&fields)?.unwrap_or(1),
        visual_description: fields.text("visual_description")?.unwrap_or_default(),
        narration: fields.text("narration")?.unwrap_or_default(),
        duration_seconds: duration(&fields)?.unwrap_or(DEFAULT_DURATION_S),
        media_type: "image".to_owned(),
        image_status: None,
        audio_status: None,
        video_status: None,
        error_message: None,
    };
    let scenes = Scenes(state.store.as_ref());
    let same_number = scenes
        .of_project(&project_id)
        .await?
        .into_iter()
        .find(|scene| scene.scene_number == edit.scene_number);
    let scene = match same_number {
        Some(existing) => {
            let mut rewritten = SceneEdit::of(&existing);
            rewritten.visual_description = edit.visual_description;
            rewritten.narration = edit.narration;
            rewritten.duration_seconds = edit.duration_seconds;
            scenes.edit(&existing.id, &rewritten).await?;
            scenes.get(&existing.id).await?
        }
        None => {
            let new = NewScene {
                id: uuid::Uuid::new_v4().to_string(),
                project_id,
                fields: edit,
            };
            Some(scenes.create(&new).await?)
        }
    }
    .ok_or_else(|| ShortsError::not_found("Scene not found"))?;
    Ok(Json(views::scene(&scene)))
}

fn scene_number(fields: &Fields<'_>) -> Result<Option<i64>, ShortsError> {
    let number = match fields.number("scene_number")? {
        Some(n) => Some(n),
        None => fields.number("sceneNumber")?,
    };
    match number {
        Some(n) if n.fract() == 0.0 && (0.0..=10_000.0).contains(&n) => Ok(Some(n as i64)),
        Some(_) => Err(ShortsError::invalid(
            "scene_number",
            "Expected a whole number from 0 to 10000",
        )),
        None => Ok(None),
    }
}

fn duration(fields: &Fields<'_>) -> Result<Option<f64>, ShortsError> {
    let seconds = match fields.number("duration_seconds")? {
        Some(n) => Some(n),
        None => fields.number("durationSeconds")?,
    };
    match seconds {
        Some(s) if (0.0..=LONGEST_S).contains(&s) => Ok(Some(s)),
        Some(_) => Err(ShortsError::invalid(
            "duration_seconds",
            &format!("Expected seconds from 0 to {LONGEST_S}"),
        )),
        None => Ok(None),
    }
}

/// Changes a scene: its text, number, length, media type, or an asset's
/// status with an error message.
#[utoipa::path(patch, path = "/api/scenes/{id}", tag = "shortsai", operation_id = "shortsai_scenes_edit", security(("bearer" = [])),
    params(("id" = String, Path, description = "The scene")), request_body = Value,
    responses((status = 200, description = "The scene"),
              (status = 404, description = "`{\"error\": \"Scene not found\"}`")))]
pub async fn edit(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let (scene, _) = owned_scene(&state, &user, &id).await?;
    let body = json_body(&body)?;
    let fields = Fields::of(&body)?;
    let mut edit = SceneEdit::of(&scene);
    if let Some(n) = scene_number(&fields)? {
        edit.scene_number = n;
    }
    if let Some(seconds) = duration(&fields)? {
        edit.duration_seconds = seconds;
    }
    if let Some(text) = fields.text("narration")? {
        edit.narration = text;
    }
    if let Some(text) = fields.text("visual_description")? {
        edit.visual_description = text;
    }
    if let Some(media) = fields.one_of("media_type", &["image", "video"])? {
        edit.media_type = media;
    }
    for (name, slot) in [
        ("image_status", &mut edit.image_status),
        ("audio_status", &mut edit.audio_status),
        ("video_status", &mut edit.video_status),
    ] {
        if let Some(status) = fields.one_of(name, &ASSET_STATUSES)? {
            *slot = Some(status);
        }
    }
    if fields.0.contains_key("error_message") {
        edit.error_message = fields.text("error_message")?;
    }
    let scenes = Scenes(state.store.as_ref());
    scenes.edit(&id, &edit).await?;
    let scene = scenes
        .get(&id)
        .await?
        .ok_or_else(|| ShortsError::not_found("Scene not found"))?;
    Ok(Json(views::scene(&scene)))
}

/// Deletes a scene (kept, marked deleted) and moves the scenes after it
/// up one number, as the original did.
#[utoipa::path(delete, path = "/api/scenes/{id}", tag = "shortsai", operation_id = "shortsai_scenes_delete", security(("bearer" = [])),
    params(("id" = String, Path, description = "The scene")),
    responses((status = 200, description = "`{\"success\": true}`"),
              (status = 404, description = "`{\"error\": \"Scene not found\"}`")))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ShortsError> {
    let (scene, _) = owned_scene(&state, &user, &id).await?;
    Scenes(state.store.as_ref()).soft_delete(&scene).await?;
    Ok(Json(json!({"success": true})))
}

/// Where a scene's files are. The names say base64, as the original's did,
/// but hold URLs (through `/api/assets`).
#[utoipa::path(get, path = "/api/scenes/{id}/media", tag = "shortsai", operation_id = "shortsai_scenes_media", security(("bearer" = [])),
    params(("id" = String, Path, description = "The scene")),
    responses((status = 200, description = "`{image_base64, audio_base64, video_base64}`: URLs or null"),
              (status = 404, description = "`{\"error\": \"Scene not found\"}`")))]
pub async fn media(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ShortsError> {
    let (scene, _) = owned_scene(&state, &user, &id).await?;
    let url = |upload: &Option<String>| upload.as_deref().map(|id| upload_url(&state, id));
    Ok(Json(json!({
        "image_base64": url(&scene.image_upload_id),
        "audio_base64": url(&scene.audio_upload_id),
        "video_base64": url(&scene.video_upload_id),
    })))
}

/// The caller's scene `id` (not deleted) with its project; 404 otherwise.
pub async fn owned_scene(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<(SceneRow, ProjectRow), ShortsError> {
    let not_found = || ShortsError::not_found("Scene not found");
    let scene = Scenes(state.store.as_ref())
        .get(id)
        .await?
        .filter(|scene| scene.deleted_at.is_none())
        .ok_or_else(not_found)?;
    let project = owned_project(state, user, &scene.project_id)
        .await
        .map_err(|_| not_found())?;
    Ok((scene, project))
}
