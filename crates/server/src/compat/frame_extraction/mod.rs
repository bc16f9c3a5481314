//! The original frame-extraction service's API (a FastAPI service), at its
//! own paths, over kinoflow's `frames` pipeline: a "video" there is a
//! `frames` job here, its id the job's id. Accounts and tokens are
//! kinoflow's own, at the old paths. As the original did, the owner is
//! mailed a download link when a video is done, when the server has an SMTP
//! server to send through.

mod accounts;
mod routes;
mod vocabulary;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{CompatError, DetailBody};
use crate::state::AppState;

/// The frame-extraction service's errors: FastAPI's `{"detail": "…"}`.
type FrameExtractionError = CompatError<DetailBody>;

/// The pipeline behind every video.
const PIPELINE: &str = "frames";

/// The frame-extraction service's routes.
pub fn router() -> OpenApiRouter<AppState> {
    let small = OpenApiRouter::new()
        .routes(routes!(routes::status))
        .routes(routes!(routes::download))
        .routes(routes!(accounts::create_user))
        .routes(routes!(accounts::token));
    super::service::<DetailBody>(OpenApiRouter::new().routes(routes!(routes::upload)), small)
}
