//! The one error type every route returns: a status, a stable code and a
//! message a user can act on, as `{"error": {...}}`. Internal details are
//! logged, never sent.

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
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

/// Middleware for routes whose bodies are small: a body announced larger than
/// [`crate::SMALL_BODY_LIMIT`] is refused before a byte of it is read (the
/// limit itself stops bodies that do not say their length).
pub async fn refuse_announced_oversize(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = crate::SMALL_BODY_LIMIT as u64;
    if announced.is_some_and(|length| length > limit) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Middleware: errors that axum answers itself (a path, query or multipart
/// boundary it cannot parse, a method a route does not take) are plain text;
/// they get the JSON shape of every other error.
pub async fn errors_in_json(request: Request, next: Next) -> Response {
    match plain_error(next.run(request).await).await {
        Ok(error) => error.into_response(),
        Err(response) => response,
    }
}

/// An error answer that is not JSON, as an [`ApiError`] with its text; any
/// other answer comes back as it was.
pub async fn plain_error(response: Response) -> Result<ApiError, Response> {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return Err(response);
    }
    if status.is_server_error() {
        return Ok(ApiError::internal(format!(
            "{status} answered in plain text"
        )));
    }
    // axum's rejection texts are a line or two.
    let body = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_owned();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_lowercase()
    } else {
        text
    };
    Ok(ApiError::new(status, code_for(status), message))
}

/// The stable code of an error that only has a status.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        _ => "refused",
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
