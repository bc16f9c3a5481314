//! The one error type every route returns: a status, a stable code from
//! [`code`] and a message a user can act on, as `{"error": {...}}`. The
//! cause of a server error travels with the response to [`log_server_errors`],
//! which logs it once; it is never sent.

pub mod code;
mod conversions;
mod middleware;

use axum::extract::{MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kinoflow_engine::FieldError;
use serde::Serialize;
use utoipa::ToSchema;

pub use code::Code;
pub use middleware::{errors_in_json, plain_error, refuse_announced_oversize};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Code,
    message: String,
    fields: Vec<FieldError>,
    /// Why a server error happened, for the log only.
    cause: Option<String>,
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

/// The cause of a server error, carried in the response's extensions from
/// where it was answered to the middleware that logs it.
#[derive(Clone)]
struct ServerErrorCause(String);

impl ApiError {
    /// An error with `code`, answered with the code's status.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self::with_status(code.status(), code, message)
    }

    fn with_status(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            cause: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The same error with the bad fields it is about.
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.fields = fields;
        self
    }

    /// The same error with the cause the log will show.
    fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// What went wrong, without the fields.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Each bad field and what is wrong with it.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .map(|field| (field.field.clone(), field.message.clone()))
            .collect()
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
        Self::new(code::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(code::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(code::FORBIDDEN, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(code::NOT_FOUND, format!("{what} not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(code::CONFLICT, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_INPUT, message)
    }

    pub fn too_large(limit: u64) -> Self {
        Self::new(
            code::TOO_LARGE,
            format!("the upload is larger than the limit of {limit} bytes"),
        )
    }

    /// A dependency (database, storage) is down; `cause` goes to the log.
    pub fn unavailable(message: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        Self::new(code::UNAVAILABLE, message).caused_by(cause)
    }

    /// A generic 500; `cause` goes to the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(
            code::INTERNAL,
            "internal error; the server log has the details",
        )
        .caused_by(cause)
    }

    /// Answers with `body`, keeping the cause for [`log_server_errors`].
    pub fn respond_with(self, body: impl Serialize) -> Response {
        let mut response = (self.status, Json(body)).into_response();
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ServerErrorCause(cause));
        }
        response
    }

    /// The body in kinoflow's own shape.
    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.name().to_owned(),
                message: self.message.clone(),
                fields: self.fields.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        self.respond_with(body)
    }
}

/// Middleware, outermost: logs every 5xx answer once, with its cause when
/// the answer carries one, so conversions and handlers do not log.
pub async fn log_server_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    // The route, not the path: a path can hold a link's signed token.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status();
    if status.is_server_error() {
        let cause = response
            .extensions()
            .get::<ServerErrorCause>()
            .map_or("no cause recorded", |cause| cause.0.as_str());
        tracing::error!(%method, route, status = status.as_u16(), cause, "server error");
    }
    response
}

#[cfg(test)]
mod tests;
