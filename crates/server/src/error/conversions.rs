//! How the errors of the layers below become answers: which status and code
//! each failure is, and which are the server's fault (their cause logged by
//! [`super::log_server_errors`]).

use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use kinoflow_engine::blobs::BlobError;
use kinoflow_engine::store::StoreError;
use kinoflow_engine::{PresignedError, SubmitError, UploadError};

use super::{code, ApiError};

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => Self::conflict(message),
            StoreError::KeyReused { .. } => {
                Self::new(code::IDEMPOTENCY_KEY_REUSED, error.to_string())
            }
            StoreError::Database(e) => {
                Self::unavailable("the database is unavailable; try again shortly", e)
            }
            StoreError::Unavailable(e) => {
                Self::unavailable("the database is unavailable; try again shortly", e)
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
                Self::unavailable("the storage is unavailable; try again shortly", error)
            }
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::InvalidParams(fields) => {
                Self::unprocessable("invalid parameters").with_fields(fields)
            }
            SubmitError::UnknownPipeline { .. }
            | SubmitError::UploadNotFound(_)
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
                code::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON with Content-Type: application/json",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(code::TOO_LARGE, "the request body is too large")
            }
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
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(code::TOO_LARGE, "the request body is too large");
        }
        Self::bad_request(format!("malformed multipart body: {}", error.body_text()))
    }
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::Empty => Self::unprocessable(error.to_string()),
            UploadError::Blob(e) => e.into(),
            UploadError::Store(e) => e.into(),
        }
    }
}

impl From<PresignedError> for ApiError {
    fn from(error: PresignedError) -> Self {
        match error {
            PresignedError::NotFound => Self::not_found("upload"),
            PresignedError::AlreadyComplete | PresignedError::Superseded => {
                Self::conflict(error.to_string())
            }
            PresignedError::NothingArrived
            | PresignedError::Empty
            | PresignedError::TooMuch { .. }
            | PresignedError::WrongSize { .. }
            | PresignedError::WrongSha256 { .. }
            | PresignedError::BadParts(_) => Self::unprocessable(error.to_string()),
            PresignedError::Blob(e) => e.into(),
            PresignedError::Store(e) => e.into(),
        }
    }
}
