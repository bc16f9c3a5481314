//! `/api/projects`: a user's shorts, each with its scenes. Only the owner
//! sees a project; anyone else is told it does not exist (404).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

use super::body::Fields;
use super::error::{json_body, Caller, ShortsError};
use super::records::{NewProject, ProjectEdit, ProjectRow, Projects, Scenes};
use super::views;
use super::vocabulary::{PENDING, PROJECT_STATUSES, TTS_PROVIDERS};
use crate::auth::AuthUser;
use crate::compat::query::query_param;
use crate::state::AppState;

/// The most projects one listing returns.
const MOST_LISTED: i64 = 500;

/// Makes a project (in `draft`; its music `pending` when it has music).
#[utoipa::path(post, path = "/api/projects", tag = "shortsai", operation_id = "shortsai_projects_create", security(("bearer" = [])),
    request_body = Value,
    responses((status = 200, description = "The project, with `characters`"),
              (status = 400, description = "`{\"error\": \"Validation Error\", \"details\": …}`")))]
pub async fn create(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let body = json_body(&body)?;
    let fields = Fields::of(&body)?;
    let mut edit = ProjectEdit {
        topic: fields.required_text("topic")?,
        style: fields.required_text("style")?,
        language: "en".to_owned(),
        voice_name: fields.required_text("voice_name")?,
        tts_provider: fields
            .one_of("tts_provider", &TTS_PROVIDERS)?
            .ok_or_else(|| ShortsError::invalid("tts_provider", "Required"))?,
        video_model: "veo".to_owned(),
        audio_model: None,
        include_music: false,
        bg_music_prompt: None,
        generated_title: None,
        generated_description: None,
        duration_config: None,
        tags: "[]".to_owned(),
        is_archived: false,
    };
    apply(&fields, &mut edit)?;
    let new = NewProject {
        id: uuid::Uuid::new_v4().to_string(),
        owner_id: user.id.clone(),
        music_status: edit.include_music.then(|| PENDING.to_owned()),
        fields: edit,
    };
    let project = Projects(state.store.as_ref()).create(&new).await?;
    let mut view = views::project(&project);
    view["characters"] = json!([]);
    Ok(Json(view))
}

/// Sets each field the body has.
fn apply(fields: &Fields<'_>, edit: &mut ProjectEdit) -> Result<(), ShortsError> {
    for (name, slot) in [
        ("topic", &mut edit.topic),
        ("style", &mut edit.style),
        ("language", &mut edit.language),
        ("voice_name", &mut edit.voice_name),
        ("video_model", &mut edit.video_model),
    ] {
        if let Some(value) = fields.text(name)? {
            *slot = value;
        }
    }
    for (name, slot) in [
        ("audio_model", &mut edit.audio_model),
        ("bg_music_prompt", &mut edit.bg_music_prompt),
        ("generated_title", &mut edit.generated_title),
        ("generated_description", &mut edit.generated_description),
    ] {
        if fields.0.contains_key(name) {
            *slot = fields.text(name)?;
        }
    }
    if let Some(provider) = fields.one_of("tts_provider", &TTS_PROVIDERS)? {
        edit.tts_provider = provider;
    }
    if let Some(value) = fields.boolean("include_music")? {
        edit.include_music = value;
    }
    if let Some(value) = fields.boolean("is_archived")? {
        edit.is_archived = value;
    }
    if let Some(config) = fields.value("duration_config") {
        edit.duration_config = Some(checked_duration_config(config)?.to_string());
    }
    if let Some(tags) = fields.value("tags") {
        let valid = tags
            .as_array()
            .is_some_and(|tags| tags.iter().all(Value::is_string));
        if !valid {
            return Err(ShortsError::invalid("tags", "Expected array of strings"));
        }
        edit.tags = tags.to_string();
    }
    Ok(())
}

/// `{min, max, targetScenes?}`, seconds.
fn checked_duration_config(config: &Value) -> Result<&Value, ShortsError> {
    let number = |name: &str| config[name].as_f64().filter(|n| n.is_finite() && *n >= 0.0);
    let valid = config.is_object()
        && number("min").is_some()
        && number("max").is_some()
        && (config["targetScenes"].is_null() || number("targetScenes").is_some());
    if valid {
        Ok(config)
    } else {
        Err(ShortsError::invalid(
            "duration_config",
            "Expected {min: number, max: number, targetScenes?: number}",
        ))
    }
}

/// The caller's projects, newest first: an array, or `{data, meta: {total}}`
/// when `limit` is given.
#[utoipa::path(get, path = "/api/projects", tag = "shortsai", operation_id = "shortsai_projects_list", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query, description = "Page size; the answer is then `{data, meta}`"),
           ("offset" = Option<i64>, Query, description = "Projects skipped"),
           ("is_archived" = Option<bool>, Query, description = "Only archived projects, or only the others")),
    responses((status = 200, description = "The projects")))]
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ShortsError> {
    let query = query.as_deref();
    let number = |name: &str| -> Result<Option<i64>, ShortsError> {
        query_param(query, name)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| ShortsError::invalid(name, "Expected a whole number"))
            })
            .transpose()
    };
    let limit = number("limit")?;
    let offset = number("offset")?.unwrap_or(0);
    let archived = match query_param(query, "is_archived").as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(ShortsError::invalid(
                "is_archived",
                "Expected true or false",
            ))
        }
    };
    let (rows, total) = Projects(state.store.as_ref())
        .of_owner(
            &user.id,
            archived,
            limit.unwrap_or(MOST_LISTED).min(MOST_LISTED),
            offset,
        )
        .await?;
    let scenes = Scenes(state.store.as_ref());
    let mut projects = Vec::with_capacity(rows.len());
    for row in &rows {
        projects.push(views::listed_project(
            row,
            &scenes.of_project(&row.id).await?,
        ));
    }
    Ok(Json(match limit {
        Some(limit) => {
            json!({"data": projects, "meta": {"total": total, "limit": limit, "offset": offset}})
        }
        None => Value::Array(projects),
    }))
}

/// A project with its scenes.
#[utoipa::path(get, path = "/api/projects/{id}", tag = "shortsai", operation_id = "shortsai_projects_get", security(("bearer" = [])),
    params(("id" = String, Path, description = "The project")),
    responses((status = 200, description = "The project, its scenes in order and `characters`"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn get(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ShortsError> {
    let project = owned_project(&state, &user, &id).await?;
    let scenes = Scenes(state.store.as_ref()).of_project(&id).await?;
    Ok(Json(views::project_with_scenes(&project, &scenes)))
}

/// Changes a project's fields (its status among them).
#[utoipa::path(patch, path = "/api/projects/{id}", tag = "shortsai", operation_id = "shortsai_projects_edit", security(("bearer" = [])),
    params(("id" = String, Path, description = "The project")), request_body = Value,
    responses((status = 200, description = "The project with its scenes"),
              (status = 400, description = "A field of the wrong type or value"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn edit(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let project = owned_project(&state, &user, &id).await?;
    let body = json_body(&body)?;
    let fields = Fields::of(&body)?;
    let mut edit = ProjectEdit::of(&project);
    apply(&fields, &mut edit)?;
    let status = fields.one_of("status", &PROJECT_STATUSES)?;
    let projects = Projects(state.store.as_ref());
    projects.edit(&id, &edit).await?;
    if let Some(status) = status {
        projects.set_status(&id, &status).await?;
    }
    get(State(state), Caller(user), Path(id)).await
}

/// Deletes a project, its scenes and the files they made.
#[utoipa::path(delete, path = "/api/projects/{id}", tag = "shortsai", operation_id = "shortsai_projects_delete", security(("bearer" = [])),
    params(("id" = String, Path, description = "The project")),
    responses((status = 200, description = "`{\"success\": true}`"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ShortsError> {
    let project = owned_project(&state, &user, &id).await?;
    if let Some(job_id) = &project.task_job_id {
        state
            .engine
            .cancel(job_id)
            .await
            .map_err(crate::error::ApiError::from)?;
    }
    let mut uploads = Scenes(state.store.as_ref()).uploads_of_project(&id).await?;
    uploads.extend(project.bg_music_upload_id.clone());
    Projects(state.store.as_ref()).delete(&id).await?;
    for upload in uploads {
        // One a queued render still uses stays until that render ends.
        if let Err(e) = state.engine.delete_upload(&upload).await {
            tracing::warn!(upload, error = %e, "could not delete a deleted project's file");
        }
    }
    Ok(Json(json!({"success": true})))
}

/// The caller's project `id`; 404 when there is none of theirs.
pub async fn owned_project(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<ProjectRow, ShortsError> {
    Projects(state.store.as_ref())
        .get(id)
        .await?
        .filter(|project| project.owner_id == user.id)
        .ok_or_else(|| ShortsError::not_found("Project not found"))
}
