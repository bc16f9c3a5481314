//! Machines: made, listed, read and deleted by their owner.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::records::{Kind, MachineRow, Machines};
use super::vocabulary::{Invalid, MachineView};
use super::{integer_at, ProductionError};
use crate::auth::{AuthUser, MaybeAnonymous};
use crate::compat::error::DetailBody;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The longest machine name kept.
const MAX_NAME_CHARS: usize = 200;

/// `POST /machines/`'s body.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct MachineCreate {
    machine_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// Always `deleted`.
    status: &'static str,
}

/// Creates a machine.
#[utoipa::path(post, path = "/machines/", tag = "production-variables", operation_id = "production_create_machine",
    security((), ("bearer" = [])),
    request_body = MachineCreate,
    responses((status = 200, body = MachineView), (status = 401, body = ErrorBody),
              (status = 422, description = "FastAPI's validation list")))]
pub async fn create(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    body: Bytes,
) -> Result<Json<MachineView>, ProductionError> {
    let name = machine_name(&body)?;
    let machine = Machines(state.store.as_ref())
        .create(&user.id, &name, Kind::Machine)
        .await?;
    Ok(Json(MachineView::new(&machine, None)))
}

/// Creates a machine (the path without its slash).
#[utoipa::path(post, path = "/machines", tag = "production-variables", operation_id = "production_create_machine_unslashed",
    security((), ("bearer" = [])),
    request_body = MachineCreate,
    responses((status = 200, body = MachineView), (status = 422, description = "FastAPI's validation list")))]
pub async fn create_unslashed(
    state: State<AppState>,
    user: MaybeAnonymous,
    body: Bytes,
) -> Result<Json<MachineView>, ProductionError> {
    create(state, user, body).await
}

/// `name` trimmed, when it is 1 to [`MAX_NAME_CHARS`] characters; a 422
/// naming `field` otherwise.
pub fn checked_name(name: &str, field: &str) -> Result<String, ProductionError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::unprocessable(format!(
            "{field} must be 1 to {MAX_NAME_CHARS} characters"
        ))
        .into());
    }
    Ok(name.to_owned())
}

/// The `machine_name` of a JSON body, trimmed and not empty.
fn machine_name(body: &Bytes) -> Result<String, ProductionError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        // Where it broke, counted from the body's start as FastAPI counts.
        let position = body
            .split(|&b| b == b'\n')
            .take(e.line().saturating_sub(1))
            .map(|line| line.len() + 1)
            .sum::<usize>()
            + e.column().saturating_sub(1);
        Invalid::not_json(position, &e)
    })?;
    match value.get("machine_name") {
        None | Some(Value::Null) => Err(Invalid::missing(["body", "machine_name"]).into()),
        Some(Value::String(name)) => checked_name(name, "machine_name"),
        Some(other) => Err(Invalid::not_a_string(["body", "machine_name"], other.clone()).into()),
    }
}

/// The caller's machines.
#[utoipa::path(get, path = "/machines/", tag = "production-variables", operation_id = "production_machines",
    security((), ("bearer" = [])),
    responses((status = 200, body = Vec<MachineView>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
) -> Result<Json<Vec<MachineView>>, ProductionError> {
    let machines = Machines(state.store.as_ref()).of_owner(&user.id).await?;
    let mut views = Vec::with_capacity(machines.len());
    for machine in &machines {
        let job = training_job(&state, machine).await?;
        views.push(MachineView::new(machine, job.as_ref()));
    }
    Ok(Json(views))
}

/// The caller's machines (the path without its slash).
#[utoipa::path(get, path = "/machines", tag = "production-variables", operation_id = "production_machines_unslashed",
    security((), ("bearer" = [])),
    responses((status = 200, body = Vec<MachineView>)))]
pub async fn list_unslashed(
    state: State<AppState>,
    user: MaybeAnonymous,
) -> Result<Json<Vec<MachineView>>, ProductionError> {
    list(state, user).await
}

/// One machine (the web client asks for it when its page is opened directly).
#[utoipa::path(get, path = "/machines/{machine_id}", tag = "production-variables", operation_id = "production_machine",
    security((), ("bearer" = [])),
    params(("machine_id" = i64, Path, description = "The machine's id")),
    responses((status = 200, body = MachineView), (status = 404, body = DetailBody)))]
pub async fn get(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Json<MachineView>, ProductionError> {
    let machine = owned_machine(&state, &user, &id).await?;
    let job = training_job(&state, &machine).await?;
    Ok(Json(MachineView::new(&machine, job.as_ref())))
}

/// Deletes a machine (its trainings' jobs stay in `/v1`).
#[utoipa::path(delete, path = "/machines/{machine_id}", tag = "production-variables", operation_id = "production_delete_machine",
    security((), ("bearer" = [])),
    params(("machine_id" = i64, Path, description = "The machine's id")),
    responses((status = 200, body = Deleted), (status = 404, body = DetailBody)))]
pub async fn delete(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Json<Deleted>, ProductionError> {
    let machine = owned_machine(&state, &user, &id).await?;
    Machines(state.store.as_ref()).delete(machine.id).await?;
    Ok(Json(Deleted { status: "deleted" }))
}

/// The caller's machine `id` (a path segment): 422 when it is not a
/// number, 404 when it is not theirs.
pub async fn owned_machine(
    state: &AppState,
    user: &AuthUser,
    id: &str,
) -> Result<MachineRow, ProductionError> {
    machine_of(state, user, integer_at(id, ["path", "machine_id"])?).await
}

/// The caller's machine `id` (not a model of the relevance service's API), or 404.
pub async fn machine_of(
    state: &AppState,
    user: &AuthUser,
    id: i64,
) -> Result<MachineRow, ProductionError> {
    owned_row(state, user, id)
        .await?
        .filter(|row| row.is(Kind::Machine))
        .ok_or_else(|| ApiError::not_found("Machine").into())
}

/// The caller's row `id`, machine or model.
pub async fn owned_row(
    state: &AppState,
    user: &AuthUser,
    id: i64,
) -> Result<Option<MachineRow>, ApiError> {
    Ok(Machines(state.store.as_ref())
        .get(id)
        .await?
        .filter(|row| row.owner_id == user.id))
}

/// A machine's latest training job, while it exists.
pub async fn training_job(
    state: &AppState,
    machine: &MachineRow,
) -> Result<Option<kinoflow_engine::store::JobRecord>, ApiError> {
    match &machine.job_id {
        Some(job_id) => Ok(state.engine.job(job_id).await?),
        None => Ok(None),
    }
}
