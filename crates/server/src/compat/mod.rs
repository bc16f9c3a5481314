//! The HTTP APIs of the services kinoflow replaces, served at their own
//! paths so that their clients work unchanged. One folder per service, each
//! with its router, its error type and body shape and its vocabulary: an
//! adapter translates requests and responses and calls the engine, with no
//! logic of its own. Each service's routes are in the OpenAPI document under
//! a tag of their own.

mod biomechanics;
mod deep_emotion;
mod error;
mod frame_extraction;
mod production_variables;
mod query;
mod secret;
mod shortsai;
mod states;
mod tables;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use error::{plain_errors_as, ErrorShape};

pub use deep_emotion::socket_io;

use kinoflow_engine::store::Store;

/// Creates or updates the compatible APIs' own tables in the store's database.
pub async fn prepare_tables(store: &dyn Store) -> anyhow::Result<()> {
    deep_emotion::prepare(store).await?;
    production_variables::prepare(store).await?;
    shortsai::prepare(store).await
}

/// Starts what the compatible APIs watch for in the background, until the
/// server shuts down: trainings to call back, ShortsAI tasks to finish and
/// start. Call from within the server's runtime.
pub fn watch(state: &AppState) {
    production_variables::announce_trainings(state);
    shortsai::drive_workflows(state);
}

/// Every compatible API's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(biomechanics::router())
        .merge(deep_emotion::router())
        .merge(frame_extraction::router())
        .merge(production_variables::router())
        .merge(shortsai::router())
}

/// One API's router: the `streamed` routes take a video, which streams to
/// storage under the upload limit rather than the small-body one; errors
/// that axum answers itself get the API's error body `B` like the others.
fn service<B: ErrorShape + 'static>(
    streamed: OpenApiRouter<AppState>,
    small: OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    small
        .merge(streamed.layer(DefaultBodyLimit::disable()))
        .layer(axum::middleware::from_fn(plain_errors_as::<B>))
}
