//! Training a machine's model on a CSV (a `relevance` job), and the
//! webhook through which an external trainer reports on one.

use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::Json;
use kinoflow_engine::Submission;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::machines::machine_of;
use super::models;
use super::records::Machines;
use super::vocabulary::Invalid;
use super::{integer_query, text_query, ProductionError, PIPELINE};
use crate::auth::{AuthUser, MaybeAnonymous};
use crate::compat::error::DetailBody;
use crate::compat::query::query_param;
use crate::compat::secret::{bearer_token, same_secret};
use crate::error::{code, ApiError, ErrorBody};
use crate::notices::owner_notices;
use crate::shared::FileForm;
use crate::state::AppState;

/// Content types browsers give CSV files.
const CSV_TYPES: [&str; 2] = ["text/csv", "application/vnd.ms-excel"];

/// The multipart form of `POST /train/`.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct TrainForm {
    /// The CSV.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct Message {
    message: &'static str,
    /// The model trained, when the relevance service's API was called.
    #[serde(skip_serializing_if = "Option::is_none")]
    model_id: Option<i64>,
}

impl Message {
    pub fn started(model_id: Option<i64>) -> Self {
        Self {
            message: "Training started",
            model_id,
        }
    }
}

/// Trains the machine's model on a CSV: `machine_id` and `target_column`
/// in the query, the file as multipart `file`. With `model_id` (and `url`)
/// instead of `machine_id`, it is the relevance service's call: see
/// [`models::train`].
#[utoipa::path(post, path = "/train/", tag = "production-variables", operation_id = "production_train",
    security((), ("bearer" = [])),
    params(("machine_id" = Option<i64>, Query, description = "The machine"),
           ("model_id" = Option<i64>, Query, description = "The model, when the relevance service's API is called instead"),
           ("url" = Option<String>, Query, description = "With `model_id`: the URL called when the training ends"),
           ("target_column" = String, Query, description = "The column to explain")),
    request_body(content = TrainForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Message), (status = 400, body = DetailBody),
              (status = 404, body = DetailBody), (status = 413, body = DetailBody),
              (status = 422, body = DetailBody)))]
pub async fn train(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Json<Message>, ProductionError> {
    if models::names_a_model(query.as_deref()) {
        return models::train(&state, &user, query.as_deref(), request).await;
    }
    let machine_id = integer_query(query.as_deref(), "machine_id")?;
    let target = text_query(query.as_deref(), "target_column")?;
    let machine = machine_of(&state, &user, machine_id).await?;
    let job_id = queue_training(&state, &user, request, &target).await?;
    Machines(state.store.as_ref())
        .start_training(machine.id, &job_id, None)
        .await?;
    Ok(Json(Message::started(None)))
}

/// Trains the machine's model (the path without its slash).
#[utoipa::path(post, path = "/train", tag = "production-variables", operation_id = "production_train_unslashed",
    security((), ("bearer" = [])),
    params(("machine_id" = i64, Query, description = "The machine"),
           ("target_column" = String, Query, description = "The column to explain")),
    request_body(content = TrainForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Message)))]
pub async fn train_unslashed(
    state: State<AppState>,
    user: MaybeAnonymous,
    query: RawQuery,
    request: Request,
) -> Result<Json<Message>, ProductionError> {
    train(state, user, query, request).await
}

/// Queues the `relevance` job of the request's CSV (multipart `file`); its
/// id. The upload is kept only when the job was queued.
pub async fn queue_training(
    state: &AppState,
    user: &AuthUser,
    request: Request,
    target: &str,
) -> Result<String, ProductionError> {
    let mut form = FileForm::from_request(state, user, request, &[]).await?;
    let started = start_training(state, user, &form, target).await;
    form.keep_if(state, started.is_ok()).await;
    started
}

/// Queues the `relevance` job of the form's CSV; its id.
async fn start_training(
    state: &AppState,
    user: &AuthUser,
    form: &FileForm,
    target: &str,
) -> Result<String, ProductionError> {
    let upload = form.upload().ok_or(Invalid::missing(["body", "file"]))?;
    let essence = upload
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let is_csv =
        CSV_TYPES.contains(&essence.as_str()) || upload.filename.to_lowercase().ends_with(".csv");
    if !is_csv {
        return Err(ApiError::bad_request("Invalid file type. Please upload a CSV file.").into());
    }
    let (job, _) = state
        .engine
        .submit(Submission {
            owner_id: user.id.clone(),
            pipeline: PIPELINE.to_owned(),
            upload_id: Some(upload.id.clone()),
            params: json!({ "target_column": target }),
            idempotency_key: None,
            notices: owner_notices(state, user),
        })
        .await
        .map_err(ApiError::from)?;
    Ok(job.id)
}

/// The webhook's answer.
#[derive(Serialize, ToSchema)]
pub struct Reported {
    message: &'static str,
    model_id: i64,
    status: String,
}

/// An external trainer reports a model's status and metrics. It needs the
/// operator's trainer secret, as a bearer token or as the `token` query
/// parameter of the callback URL (the original let anyone rewrite any
/// machine).
#[utoipa::path(post, path = "/webhook/treinamento/", tag = "production-variables", operation_id = "production_webhook",
    params(("token" = Option<String>, Query, description = "The trainer secret, when not sent as a bearer token")),
    request_body = Value,
    responses((status = 200, body = Reported), (status = 400, body = DetailBody),
              (status = 401, body = ErrorBody), (status = 404, body = DetailBody)))]
pub async fn webhook(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Reported>, ProductionError> {
    check_trainer(&state, query.as_deref(), &headers)?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let (Some(model_id), Some(status)) = (body["model_id"].as_i64(), body["status"].as_str())
    else {
        return Err(ApiError::bad_request("Dados incompletos enviados pelo webhook").into());
    };
    let status = status.trim().to_owned();
    if status.is_empty() || status.chars().count() > 50 {
        return Err(ApiError::bad_request("status must be 1 to 50 characters").into());
    }
    let metrics = match &body["metrics"] {
        Value::Object(_) => Some(body["metrics"].to_string()),
        Value::Null => None,
        _ => return Err(ApiError::bad_request("metrics must be an object or null").into()),
    };
    let machines = Machines(state.store.as_ref());
    if machines.get(model_id).await?.is_none() {
        return Err(ApiError::new(code::NOT_FOUND, "Máquina não encontrada").into());
    }
    machines
        .report(model_id, &status, metrics.as_deref())
        .await?;
    Ok(Json(Reported {
        message: "Status do modelo atualizado com sucesso",
        model_id,
        status,
    }))
}

/// The webhook (the path without its slash).
#[utoipa::path(post, path = "/webhook/treinamento", tag = "production-variables", operation_id = "production_webhook_unslashed",
    request_body = Value,
    responses((status = 200, body = Reported)))]
pub async fn webhook_unslashed(
    state: State<AppState>,
    query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Reported>, ProductionError> {
    webhook(state, query, headers, body).await
}

/// Refuses (401) a caller without the trainer secret, and everyone (403)
/// when the operator set none.
fn check_trainer(
    state: &AppState,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let Some(secret) = &state.compat.trainer_secret else {
        return Err(ApiError::forbidden(
            "the trainer webhook is off: the operator has set no trainer secret (KINOFLOW_TRAINER_SECRET)",
        ));
    };
    let token = bearer_token(headers).or_else(|| query_param(query, "token"));
    let matches = token.is_some_and(|token| same_secret(&token, secret));
    if matches {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "the trainer secret is missing or wrong",
        ))
    }
}
