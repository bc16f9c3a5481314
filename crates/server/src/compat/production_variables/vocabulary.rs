//! The production-variables service's words: a machine, its statuses, the
//! ranking items its web client reads (directions in Portuguese, as it
//! shows them), and FastAPI's validation errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kinoflow_engine::store::{JobRecord, JobState};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::records::MachineRow;

/// A machine as the original's `Machine` schema showed it.
#[derive(Serialize, ToSchema)]
pub struct MachineView {
    pub machine_name: String,
    pub id: i64,
    /// `created`, `training`, `completed` or `failed` (or what an external
    /// trainer reported).
    pub status: String,
    /// The model's id (the machine's own).
    pub model_id: i64,
}

impl MachineView {
    /// `machine` with its training `job`, if it has one.
    pub fn new(machine: &MachineRow, job: Option<&JobRecord>) -> Self {
        Self {
            machine_name: machine.machine_name.clone(),
            id: machine.id,
            status: status(machine, job),
            model_id: machine.id,
        }
    }
}

/// A trainer's report when there is one; else the training job's state.
pub fn status(machine: &MachineRow, job: Option<&JobRecord>) -> String {
    if let Some(reported) = &machine.reported_status {
        return reported.clone();
    }
    match job.map(|job| job.state) {
        None => "created",
        Some(JobState::Queued | JobState::Running | JobState::Retrying) => "training",
        Some(JobState::Succeeded) => "completed",
        Some(JobState::Failed | JobState::Cancelled) => "failed",
    }
    .to_owned()
}

/// The words the web client shows for a direction.
pub fn direction_words(direction: &str) -> &'static str {
    match direction {
        "increases" => "aumentar a variável tende a aumentar a produção",
        "decreases" => "aumentar a variável tende a reduzir o resultado",
        _ => "relação não linear",
    }
}

/// FastAPI's 422: `{"detail": [{"type", "loc", "msg", "input"}]}`.
pub struct Invalid {
    pub kind: &'static str,
    /// Where: `["query", name]`, `["body", field]`, or `["body", position]`.
    pub loc: [Value; 2],
    pub msg: &'static str,
    pub input: Value,
    /// More about it (what the JSON parser said).
    pub ctx: Option<Value>,
}

impl Invalid {
    /// A required query parameter or body field that is missing.
    pub fn missing(loc: [&'static str; 2]) -> Self {
        Self {
            kind: "missing",
            loc: loc.map(|part| json!(part)),
            msg: "Field required",
            input: Value::Null,
            ctx: None,
        }
    }

    /// A value that is not an integer.
    pub fn not_an_integer(loc: [&'static str; 2], input: &str) -> Self {
        Self {
            kind: "int_parsing",
            loc: loc.map(|part| json!(part)),
            msg: "Input should be a valid integer, unable to parse string as an integer",
            input: json!(input),
            ctx: None,
        }
    }

    /// A value that is not a string.
    pub fn not_a_string(loc: [&'static str; 2], input: Value) -> Self {
        Self {
            kind: "string_type",
            loc: loc.map(|part| json!(part)),
            msg: "Input should be a valid string",
            input,
            ctx: None,
        }
    }

    /// A body that is not JSON, `position` bytes in.
    pub fn not_json(position: usize, error: &serde_json::Error) -> Self {
        Self {
            kind: "json_invalid",
            loc: [json!("body"), json!(position)],
            msg: "JSON decode error",
            input: json!({}),
            ctx: Some(json!({ "error": error.to_string() })),
        }
    }
}

impl IntoResponse for Invalid {
    fn into_response(self) -> Response {
        let mut detail = json!({
            "type": self.kind, "loc": self.loc, "msg": self.msg, "input": self.input,
        });
        if let Some(ctx) = self.ctx {
            detail["ctx"] = ctx;
        }
        let body = json!({ "detail": [detail] });
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}
