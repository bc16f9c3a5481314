//! Middleware that gives errors answered outside the handlers the same
//! shape as every other error.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{code, ApiError};

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
            code::TOO_LARGE,
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
    // The dashboard's pages answer their errors as pages.
    let is_shaped = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if is_shaped || !(status.is_client_error() || status.is_server_error()) {
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
    Ok(ApiError::with_status(
        status,
        code::for_status(status),
        message,
    ))
}
