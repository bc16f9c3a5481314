//! The DeepEmotion API (a Flask service) at its own paths under `/api/v2`,
//! over kinoflow's `emotion` pipeline: a "video" there is an `emotion` job
//! here, its id the job's id, with the title and stream name DeepEmotion
//! keeps in tables of its own. Accounts are kinoflow's, with a user name.
//! Its web client works unchanged: every error carries a string `error`,
//! live progress comes over Socket.IO, and the video plays from an address
//! the client builds itself.

mod accounts;
mod body;
mod caller;
mod error;
mod progress;
mod records;
mod results;
mod stream;
mod videos;
mod vocabulary;

use kinoflow_engine::store::Store;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use error::MessageBody;

pub use progress::socket_io;

/// The pipeline behind every video.
const PIPELINE: &str = "emotion";

/// DeepEmotion's routes.
pub fn router() -> OpenApiRouter<AppState> {
    let small = OpenApiRouter::new()
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::profile))
        .routes(routes!(videos::list))
        .routes(routes!(videos::list_unslashed))
        .routes(routes!(videos::detail, videos::retitle))
        .routes(routes!(videos::rotate_stream_name))
        .routes(routes!(videos::initialize))
        .routes(routes!(videos::finalize))
        .routes(routes!(stream::stream));
    super::service::<MessageBody>(OpenApiRouter::new().routes(routes!(videos::upload)), small)
}

/// Creates or updates DeepEmotion's tables in the store's database.
pub async fn prepare(store: &dyn Store) -> anyhow::Result<()> {
    store.migrate_extension(&records::EXTENSION).await?;
    Ok(())
}
