//! `POST /api/projects/{id}/lock` and `/unlock`: one editing session holds
//! a project for 5 minutes (again and again while it is alive); another
//! session is refused until the lock expires. The original served these to
//! anyone, set the project `generating` on lock and answered 500 to an
//! unknown status on unlock; here only the owner may, locking changes
//! nothing else, and a status must be one of the project statuses (400).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kinoflow_engine::store::now_ms;
use serde_json::Value;

use super::body::Fields;
use super::error::{json_body, Caller, ShortsError};
use super::projects::owned_project;
use super::records::Projects;
use super::views;
use super::vocabulary::PROJECT_STATUSES;
use crate::state::AppState;

/// How long a lock lasts unless renewed.
const LOCK_MS: i64 = 5 * 60 * 1000;

/// Locks a project for an editing session.
#[utoipa::path(post, path = "/api/projects/{id}/lock", tag = "shortsai", operation_id = "shortsai_lock", security(("bearer" = [])),
    params(("id" = String, Path, description = "The project")), request_body = Value,
    responses((status = 200, description = "The project"),
              (status = 400, description = "`{\"error\": \"Missing session_id\"}`"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`"),
              (status = 409, description = "`{\"error\": \"Project is locked by another session\"}`")))]
pub async fn lock(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let (session, _) = session_in(&body, false)?;
    owned_project(&state, &user, &id).await?;
    let projects = Projects(state.store.as_ref());
    if !projects.lock(&id, &session, now_ms() + LOCK_MS).await? {
        return Err(ShortsError::said(
            StatusCode::CONFLICT,
            "Project is locked by another session",
        ));
    }
    let project = owned_project(&state, &user, &id).await?;
    Ok(Json(views::project(&project)))
}

/// Unlocks a project, and sets its status when one is given.
#[utoipa::path(post, path = "/api/projects/{id}/unlock", tag = "shortsai", operation_id = "shortsai_lock_unlock", security(("bearer" = [])),
    params(("id" = String, Path, description = "The project")), request_body = Value,
    responses((status = 200, description = "The project"),
              (status = 400, description = "`{\"error\": \"Missing session_id\"}`, or a status not of the project statuses"),
              (status = 403, description = "`{\"error\": \"Cannot unlock: locked by another session\"}`"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn unlock(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let (session, status) = session_in(&body, true)?;
    owned_project(&state, &user, &id).await?;
    let projects = Projects(state.store.as_ref());
    if !projects.unlock(&id, &session, status.as_deref()).await? {
        return Err(ShortsError::said(
            StatusCode::FORBIDDEN,
            "Cannot unlock: locked by another session",
        ));
    }
    let project = owned_project(&state, &user, &id).await?;
    Ok(Json(views::project(&project)))
}

/// The body's `session_id`, and its `status` when `with_status`.
fn session_in(body: &Bytes, with_status: bool) -> Result<(String, Option<String>), ShortsError> {
    let body = json_body(body)?;
    let fields = Fields::of(&body)?;
    let session = fields
        .text("session_id")?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ShortsError::bad_request("Missing session_id"))?;
    let status = if with_status {
        fields.one_of("status", &PROJECT_STATUSES)?
    } else {
        None
    };
    Ok((session, status))
}
