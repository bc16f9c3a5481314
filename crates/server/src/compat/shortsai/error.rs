//! ShortsAI's errors, `{"error": "…"}` (a Next.js route's
//! `NextResponse.json`), zod's validation failures as 400
//! `{"error": "Validation Error", "details": …}`, and the caller, whose
//! refusal (401) is said the same way.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use kinoflow_engine::store::StoreError;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// An error ShortsAI's way.
#[derive(Debug)]
pub enum ShortsError {
    /// One of kinoflow's errors: its status, its message as `error`.
    Api(ApiError),
    /// An answer in the original's own words.
    Said(StatusCode, Value),
}

impl ShortsError {
    /// `{"error": message}` with `status`.
    pub fn said(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Said(status, json!({ "error": message.into() }))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::said(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: &str) -> Self {
        Self::said(StatusCode::NOT_FOUND, message)
    }

    /// zod's 400: `details` is its `format()` tree, `{field: {"_errors": [message]}}`.
    pub fn invalid(field: &str, message: &str) -> Self {
        let mut details = json!({ "_errors": [] });
        details[field] = json!({ "_errors": [message] });
        Self::Said(
            StatusCode::BAD_REQUEST,
            json!({ "error": "Validation Error", "details": details }),
        )
    }
}

impl From<ApiError> for ShortsError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<StoreError> for ShortsError {
    fn from(error: StoreError) -> Self {
        Self::Api(error.into())
    }
}

impl IntoResponse for ShortsError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => {
                let body = json!({ "error": error.describe() });
                error.respond_with(body)
            }
            Self::Said(status, body) => (status, Json(body)).into_response(),
        }
    }
}

/// The caller, by bearer token or API key; refused with ShortsAI's 401
/// `{"error": "Unauthorized"}` shape (the message says why).
pub struct Caller(pub AuthUser);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ShortsError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ShortsError> {
        AuthUser::from_request_parts(parts, state)
            .await
            .map(Self)
            .map_err(ShortsError::from)
    }
}

/// A JSON body as a value: 400 when it is not JSON (the original's 500).
pub fn json_body(bytes: &[u8]) -> Result<Value, ShortsError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ShortsError::bad_request(format!("the body is not JSON: {e}")))
}
