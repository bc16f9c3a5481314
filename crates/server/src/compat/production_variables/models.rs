//! The relevance service's own API, which the production-variables backend
//! called (its `RELEVANCE_SERVICE_API_URL`), so that the original backend
//! can point at kinoflow: models made and deleted, trained on a CSV with a
//! URL to call back when the training ends, and their rankings. `POST
//! /train` and `GET /ranking` share their paths with the backend's routes
//! and are told apart by their query: `model_id` rather than `machine_id`.

use axum::extract::{Path, RawQuery, Request, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::machines::{checked_name, owned_row};
use super::records::{Kind, MachineRow, Machines};
use super::training::{queue_training, Message};
use super::{integer_at, integer_query, text_query, ProductionError};
use crate::auth::{AuthUser, MaybeAnonymous};
use crate::compat::error::DetailBody;
use crate::compat::query::query_param;
use crate::error::{ApiError, ErrorBody};
use crate::notices::checked_url;
use crate::state::AppState;

/// `POST /models`'s answer.
#[derive(Serialize, ToSchema)]
pub struct ModelCreated {
    model_id: i64,
}

/// `DELETE /models/{model_id}`'s answer.
#[derive(Serialize, ToSchema)]
pub struct ModelDeleted {
    model_id: i64,
    /// Always `deleted`.
    status: &'static str,
}

/// Whether a query is the relevance service's (it names a model, not a machine).
pub fn names_a_model(query: Option<&str>) -> bool {
    query_param(query, "model_id").is_some() && query_param(query, "machine_id").is_none()
}

/// Makes a model.
#[utoipa::path(post, path = "/models", tag = "production-variables", operation_id = "relevance_create_model",
    security((), ("bearer" = [])),
    params(("model_name" = String, Query, description = "The model's name")),
    responses((status = 200, body = ModelCreated), (status = 401, body = ErrorBody),
              (status = 422, description = "FastAPI's validation list")))]
pub async fn create(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    RawQuery(query): RawQuery,
) -> Result<Json<ModelCreated>, ProductionError> {
    let name = text_query(query.as_deref(), "model_name")?;
    let name = checked_name(&name, "model_name")?;
    let model = Machines(state.store.as_ref())
        .create(&user.id, &name, Kind::Model)
        .await?;
    Ok(Json(ModelCreated { model_id: model.id }))
}

/// Makes a model (the path with a slash).
#[utoipa::path(post, path = "/models/", tag = "production-variables", operation_id = "relevance_create_model_slashed",
    security((), ("bearer" = [])),
    params(("model_name" = String, Query, description = "The model's name")),
    responses((status = 200, body = ModelCreated)))]
pub async fn create_slashed(
    state: State<AppState>,
    user: MaybeAnonymous,
    query: RawQuery,
) -> Result<Json<ModelCreated>, ProductionError> {
    create(state, user, query).await
}

/// Deletes a model; 200 also when there is no such model of the caller's
/// (the original backend could never delete a machine whose model was
/// already gone). Its trainings' jobs stay in `/v1`.
#[utoipa::path(delete, path = "/models/{model_id}", tag = "production-variables", operation_id = "relevance_delete_model",
    security((), ("bearer" = [])),
    params(("model_id" = i64, Path, description = "The model's id")),
    responses((status = 200, body = ModelDeleted), (status = 422, body = DetailBody)))]
pub async fn delete(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Json<ModelDeleted>, ProductionError> {
    let id = integer_at(&id, ["path", "model_id"])?;
    if let Some(model) = owned_row(&state, &user, id).await? {
        Machines(state.store.as_ref()).delete(model.id).await?;
    }
    Ok(Json(ModelDeleted {
        model_id: id,
        status: "deleted",
    }))
}

/// `POST /train?model_id=&url=&target_column=` with the CSV as multipart
/// `file`: queues the training and answers at once; when it ends, `url` is
/// called with `{model_id, status, metrics}` (see `callbacks`). A URL that
/// kinoflow may not call (an internal address, unless the operator allows
/// them) is refused here, before anything is queued.
pub async fn train(
    state: &AppState,
    user: &AuthUser,
    query: Option<&str>,
    request: Request,
) -> Result<Json<Message>, ProductionError> {
    let target = text_query(query, "target_column")?;
    let model = model_in(state, user, query).await?;
    let callback_url = match query_param(query, "url") {
        Some(url) => Some(checked_url(state, "url", &url).await?),
        None => None,
    };
    let job_id = queue_training(state, user, request, &target).await?;
    Machines(state.store.as_ref())
        .start_training(model.id, &job_id, callback_url.as_deref())
        .await?;
    Ok(Json(Message::started(Some(model.id))))
}

/// The caller's model named by the query's `model_id` (a machine is its own
/// model too): 422 when it is missing or not a number, 404 when there is
/// none of the caller's.
pub async fn model_in(
    state: &AppState,
    user: &AuthUser,
    query: Option<&str>,
) -> Result<MachineRow, ProductionError> {
    let id = integer_query(query, "model_id")?;
    owned_row(state, user, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Model").into())
}
