//! ShortsAI's API (a Next.js service) at its own paths: projects and
//! their scenes in tables of their own (`records`), the generation
//! workflow whose tasks are kinoflow jobs (`workflow`), its events
//! (`events`), the AI actions (`ai`) through the operator's provider,
//! renders by the `render` pipeline (`renders`), the asset proxy
//! (`assets`) and the project lock (`lock`). The original let most routes
//! be called without a session; here every route takes a token or an API
//! key, and everything a user made is theirs alone (another user is told
//! it does not exist). The external render worker's webhook takes the
//! operator's worker secret instead.

mod ai;
mod assets;
mod body;
mod error;
mod events;
mod lock;
mod projects;
mod records;
mod renders;
mod scenes;
mod views;
mod vocabulary;
mod workflow;

pub use workflow::drive_workflows;

use kinoflow_engine::store::Store;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::MessageBody;
use crate::state::AppState;

/// The API's routes.
pub fn router() -> OpenApiRouter<AppState> {
    let small = OpenApiRouter::new()
        .routes(routes!(projects::create, projects::list))
        .routes(routes!(projects::get, projects::edit, projects::delete))
        .routes(routes!(lock::lock))
        .routes(routes!(lock::unlock))
        .routes(routes!(scenes::create))
        .routes(routes!(scenes::edit, scenes::delete))
        .routes(routes!(scenes::media))
        .routes(routes!(workflow::command::command))
        .routes(routes!(workflow::state::state))
        .routes(routes!(events::events))
        .routes(routes!(ai::generate))
        .routes(routes!(ai::generate_script))
        .routes(routes!(renders::render))
        .routes(routes!(renders::status))
        .routes(routes!(renders::webhook))
        .routes(routes!(assets::asset));
    super::service::<MessageBody>(OpenApiRouter::new(), small)
}

/// Creates or updates the API's tables in the store's database.
pub async fn prepare(store: &dyn Store) -> anyhow::Result<()> {
    store.migrate_extension(&records::EXTENSION).await?;
    Ok(())
}
