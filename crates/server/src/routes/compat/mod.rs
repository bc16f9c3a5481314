//! The HTTP APIs of the services kinoflow replaces, served at their own
//! paths so that their clients work unchanged: thin adapters over the same
//! engine as `/v1`, with no logic of their own.

pub mod biomech;
pub mod frames;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::error::{plain_error, ApiError};
use crate::state::AppState;

/// The compatible routes: the biomechanics server's and the frame-extraction
/// service's.
pub fn router() -> Router<AppState> {
    Router::new()
        // The video streams to storage under the upload limit, not the small-body one.
        .route(
            "/processar",
            post(biomech::process).layer(DefaultBodyLimit::disable()),
        )
        .route("/status/{job_id}", get(biomech::status))
        .route("/cancelar/{job_id}", post(biomech::cancel))
        .route("/download-zip/{job_id}", get(biomech::download_zip))
        .route("/resultados/{job_id}/{name}", get(biomech::result_file))
        .route("/users/", post(crate::routes::auth::register))
        .route("/auth/token", post(crate::routes::auth::token))
        .route(
            "/videos/upload",
            post(frames::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/videos/status", get(frames::status))
        .route("/videos/download/{video_id}", get(frames::download))
        .layer(axum::middleware::from_fn(errors_as_detail))
}

/// Middleware: errors that axum answers itself, in plain text, get the
/// original services' `{"detail": …}` shape too.
async fn errors_as_detail(request: Request, next: Next) -> Response {
    match plain_error(next.run(request).await).await {
        Ok(error) => CompatError(error).into_response(),
        Err(response) => response,
    }
}

/// An error as the original services (FastAPI) wrote them: `{"detail": …}`.
pub struct CompatError(ApiError);

impl From<ApiError> for CompatError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl IntoResponse for CompatError {
    fn into_response(self) -> Response {
        let status: StatusCode = self.0.status();
        (status, Json(json!({"detail": self.0.describe()}))).into_response()
    }
}
