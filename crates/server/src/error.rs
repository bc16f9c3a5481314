//! The one error type every route returns: a status, a stable code and a
//! message a user can act on, as `{"error": {...}}`. Internal details are
//! logged, never sent.

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kinoflow_engine::blobs::BlobError;
use kinoflow_engine::store::StoreError;
use kinoflow_engine::{FieldError, SubmitError};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `not_found`.
    code: String,
    /// What went wrong, in words.
    message: String,
    /// One entry per bad field, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<FieldErrorView>)]
    fields: Vec<FieldError>,
}

/// One bad field of a request.
#[derive(Serialize, ToSchema)]
pub struct FieldErrorView {
    field: String,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message with each bad field's, in one line.
    pub fn describe(&self) -> String {
        let mut text = self.message.clone();
        for field in &self.fields {
            text.push_str(&format!("; {}: {}", field.field, field.message));
        }
        text
    }

    /// The same error, its message and fields saying which part of the
    /// request they are about (`jobs[2]: …`, `jobs[2].params.seconds`).
    pub fn prefixed(mut self, part: &str) -> Self {
        self.message = format!("{part}: {}", self.message);
        for field in &mut self.fields {
            field.field = format!("{part}.{}", field.field);
        }
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }

    pub fn too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the upload is larger than the limit of {limit} bytes"),
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// Logs the cause and answers a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                fields: self.fields,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => Self::conflict(message),
            StoreError::KeyReused { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                error.to_string(),
            ),
            StoreError::Database(e) => {
                tracing::error!(error = %e, "database error");
                Self::unavailable("the database is unavailable; try again shortly")
            }
            other => Self::internal(other),
        }
    }
}

impl From<BlobError> for ApiError {
    fn from(error: BlobError) -> Self {
        match error {
            BlobError::NotFound(_) | BlobError::InvalidKey(_) => Self::not_found("object"),
            BlobError::TooLarge { limit } => Self::too_large(limit),
            BlobError::Source(e) => Self::bad_request(format!("the upload was interrupted: {e}")),
            BlobError::Io(_) | BlobError::Remote(_) | BlobError::InvalidUrl(_) => {
                tracing::error!(error = %error, "storage error");
                Self::unavailable("the storage is unavailable; try again shortly")
            }
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::InvalidParams(fields) => Self {
                fields,
                ..Self::unprocessable("invalid parameters")
            },
            SubmitError::UploadNotFound(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                error.to_string(),
            ),
            SubmitError::UnknownPipeline { .. }
            | SubmitError::InputRequired(_)
            | SubmitError::InputRejected(_) => Self::unprocessable(error.to_string()),
            SubmitError::Store(e) => e.into(),
            SubmitError::Blob(e) => e.into(),
            SubmitError::Item { index, source } => {
                Self::from(*source).prefixed(&format!("jobs[{index}]"))
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonSyntaxError(e) => {
                Self::bad_request(format!("malformed JSON: {}", e.body_text()))
            }
            JsonRejection::JsonDataError(e) => {
                Self::unprocessable(format!("invalid request body: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is too large",
            ),
            other => Self::bad_request(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(format!("invalid query: {}", rejection.body_text()))
    }
}

impl From<MultipartError> for ApiError {
    fn from(error: MultipartError) -> Self {
        let status = error.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(status, "too_large", "the request body is too large");
        }
        Self::bad_request(format!("malformed multipart body: {}", error.body_text()))
    }
}
