//! DeepEmotion's error bodies. Its web client shows `response.data.error`,
//! so every error carries `error` as a string: kinoflow's own errors with
//! their message, validation failures with marshmallow's
//! `{field: [messages]}` beside it, and token refusals with
//! Flask-JWT-Extended's `{"msg": …}` beside it.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::compat::error::ErrorShape;
pub use crate::compat::error::MessageBody;
use crate::error::ApiError;

/// An error DeepEmotion's way.
#[derive(Debug)]
pub enum DeepEmotionError {
    /// One of kinoflow's errors, its status kept, its message as `error`.
    Api(ApiError),
    /// An answer of the original's own, in its words.
    Said(StatusCode, Value),
}

impl DeepEmotionError {
    /// `{"error": message}` with `status`.
    pub fn said(status: StatusCode, message: &str) -> Self {
        Self::Said(status, json!({ "error": message }))
    }

    /// 400 `{"error": message}`.
    pub fn bad_request(message: &str) -> Self {
        Self::said(StatusCode::BAD_REQUEST, message)
    }

    /// The original's 404 for a video that is not the caller's.
    pub fn no_video() -> Self {
        Self::said(
            StatusCode::NOT_FOUND,
            "Vídeo não encontrado ou acesso não permitido.",
        )
    }

    /// 422 with marshmallow's `{field: [messages]}`, and `error` naming them.
    pub fn invalid(fields: BTreeMap<String, Vec<String>>) -> Self {
        let summary: Vec<String> = fields
            .iter()
            .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
            .collect();
        let mut body = json!(fields);
        body["error"] = json!(summary.join("; "));
        Self::Said(StatusCode::UNPROCESSABLE_ENTITY, body)
    }

    /// A refused token, as Flask-JWT-Extended says it (`msg`), with `error`.
    pub fn token(status: StatusCode, message: &str) -> Self {
        Self::Said(status, json!({ "msg": message, "error": message }))
    }
}

impl From<ApiError> for DeepEmotionError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl IntoResponse for DeepEmotionError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => {
                let body = MessageBody::from_message(error.describe());
                error.respond_with(body)
            }
            Self::Said(status, body) => (status, Json(body)).into_response(),
        }
    }
}
