//! The original biomechanics server's API (a FastAPI service), at its own
//! paths and in its own words, over kinoflow's `biomech` pipeline: its front
//! end works unchanged. Results are listed under the names it used
//! (`grafico_joelho.png`, `video_overlay.mp4`, `analise_final.zip`). Its
//! `GET /health` is kinoflow's own.

mod routes;
mod vocabulary;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{CompatError, DetailBody};
use crate::state::AppState;

/// The biomechanics server's errors: FastAPI's `{"detail": "…"}`.
type BiomechanicsError = CompatError<DetailBody>;

/// The pipeline behind every route here.
const PIPELINE: &str = "biomech";

/// The biomechanics server's routes.
pub fn router() -> OpenApiRouter<AppState> {
    let small = OpenApiRouter::new()
        .routes(routes!(routes::status))
        .routes(routes!(routes::cancel))
        .routes(routes!(routes::download_zip))
        .routes(routes!(routes::result_file));
    super::service::<DetailBody>(OpenApiRouter::new().routes(routes!(routes::process)), small)
}
