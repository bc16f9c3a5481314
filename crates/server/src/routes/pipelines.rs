//! What analyses this server offers.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct PipelineView {
    pub name: String,
    pub description: String,
    /// `none`, `video` or `csv`.
    pub input: String,
    /// The JSON schema of the `params` object.
    #[schema(value_type = Object)]
    pub params_schema: Value,
}

#[derive(Serialize, ToSchema)]
pub struct PipelineList {
    pub pipelines: Vec<PipelineView>,
}

/// The pipelines, with their parameter schemas.
#[utoipa::path(get, path = "/v1/pipelines", tag = "pipelines",
    responses((status = 200, body = PipelineList)))]
pub async fn list_pipelines(State(state): State<AppState>) -> Json<PipelineList> {
    Json(PipelineList {
        pipelines: state
            .engine
            .pipelines
            .iter()
            .map(|pipeline| PipelineView {
                name: pipeline.name().to_owned(),
                description: pipeline.description().to_owned(),
                input: pipeline.input().as_str().to_owned(),
                params_schema: pipeline.params_schema(),
            })
            .collect(),
    })
}
