//! A machine's ranking in the shape its web client reads: an array sorted by
//! `score_final`, each item with the numbers it charts and the direction in
//! Portuguese words, and the model's metrics. The relevance service's
//! ranking (by `model_id`) is the same array alone, which the backend
//! passed on to the web client as it was.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kinoflow_engine::store::JobState;
use kinoflow_pipelines::artifacts::relevance::{METRICS, RANKING_JSON};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tokio::io::AsyncReadExt;
use utoipa::ToSchema;

use super::machines::{machine_of, training_job};
use super::models;
use super::records::MachineRow;
use super::vocabulary::direction_words;
use super::{integer_query, ProductionError};
use crate::auth::MaybeAnonymous;
use crate::compat::error::DetailBody;
use crate::error::ApiError;
use crate::state::AppState;

/// The most bytes of a result file read (a ranking of thousands of
/// variables is well under this).
const MAX_RESULT_BYTES: u64 = 16 * 1024 * 1024;
/// The metrics the web client shows.
const SHOWN_METRICS: [&str; 11] = [
    "r2",
    "mae",
    "rmse",
    "accuracy",
    "f1_macro",
    "roc_auc",
    "log_loss",
    "n_train",
    "n_test",
    "n_features",
    "date",
];

/// `GET /ranking/`'s answer.
#[derive(Serialize, ToSchema)]
pub struct RankingAnswer {
    /// Most important first; empty until the machine is trained.
    ranking: Vec<Value>,
    /// `{r2, mae, rmse, n_train, n_test, n_features, date}` (or the
    /// classification's); null until trained.
    metrics: Option<Value>,
}

/// The ranking of a trained machine; `{"ranking": [], "metrics": null}`
/// before. With `model_id` instead of `machine_id` it is the relevance
/// service's call, answered with the ranking array alone.
#[utoipa::path(get, path = "/ranking/", tag = "production-variables", operation_id = "production_ranking",
    security((), ("bearer" = [])),
    params(("machine_id" = Option<i64>, Query, description = "The machine"),
           ("model_id" = Option<i64>, Query, description = "The model, when the relevance service's API is called instead")),
    responses((status = 200, body = RankingAnswer), (status = 404, body = DetailBody),
              (status = 422, description = "FastAPI's validation list")))]
pub async fn ranking(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    RawQuery(query): RawQuery,
) -> Result<Response, ProductionError> {
    if models::names_a_model(query.as_deref()) {
        let model = models::model_in(&state, &user, query.as_deref()).await?;
        let answer = answer_for(&state, &model).await?;
        return Ok(Json(answer.ranking).into_response());
    }
    let machine_id = integer_query(query.as_deref(), "machine_id")?;
    let machine = machine_of(&state, &user, machine_id).await?;
    Ok(Json(answer_for(&state, &machine).await?).into_response())
}

/// What a machine's (or model's) latest training says.
async fn answer_for(state: &AppState, machine: &MachineRow) -> Result<RankingAnswer, ApiError> {
    let job = training_job(state, machine).await?;
    let trained = job
        .as_ref()
        .filter(|job| job.state == JobState::Succeeded && machine.reported_status.is_none());
    let Some(job) = trained else {
        let reported = machine
            .reported_metrics
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok());
        return Ok(RankingAnswer {
            ranking: Vec::new(),
            metrics: reported,
        });
    };
    // A job whose results were deleted (by retention, say) has none to show.
    let ranking = result_json(state, &job.id, RANKING_JSON).await?;
    Ok(RankingAnswer {
        ranking: ranking
            .as_ref()
            .and_then(Value::as_array)
            .map(|items| items.iter().map(web_item).collect())
            .unwrap_or_default(),
        metrics: job_metrics(state, &job.id).await?,
    })
}

/// The metrics of training `job_id` that the web client shows, if it has them.
pub async fn job_metrics(state: &AppState, job_id: &str) -> Result<Option<Value>, ApiError> {
    let metrics = result_json(state, job_id, METRICS).await?;
    Ok(metrics.as_ref().map(shown_metrics))
}

/// The ranking (the path without its slash).
#[utoipa::path(get, path = "/ranking", tag = "production-variables", operation_id = "production_ranking_unslashed",
    security((), ("bearer" = [])),
    params(("machine_id" = i64, Query, description = "The machine")),
    responses((status = 200, body = RankingAnswer)))]
pub async fn ranking_unslashed(
    state: State<AppState>,
    user: MaybeAnonymous,
    query: RawQuery,
) -> Result<Response, ProductionError> {
    ranking(state, user, query).await
}

/// A ranking item as the web client reads it: kinoflow's fields, the
/// direction in its words.
fn web_item(item: &Value) -> Value {
    let mut item = item.clone();
    let words = direction_words(item["direction"].as_str().unwrap_or_default());
    item["direction"] = json!(words);
    item
}

fn shown_metrics(metrics: &Value) -> Value {
    let shown: Map<String, Value> = SHOWN_METRICS
        .iter()
        .filter_map(|&name| metrics.get(name).map(|v| (name.to_owned(), v.clone())))
        .collect();
    Value::Object(shown)
}

/// A JSON artifact of a job, if it has it.
async fn result_json(
    state: &AppState,
    job_id: &str,
    name: &str,
) -> Result<Option<Value>, ApiError> {
    let Some(artifact) = state.engine.artifact(job_id, name).await? else {
        return Ok(None);
    };
    let mut text = String::new();
    state
        .engine
        .read_artifact(&artifact, None)
        .await?
        .take(MAX_RESULT_BYTES)
        .read_to_string(&mut text)
        .await
        .map_err(|e| ApiError::internal(format!("reading {name} of job {job_id}: {e}")))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ApiError::internal(format!("{name} of job {job_id}: {e}")))
}
