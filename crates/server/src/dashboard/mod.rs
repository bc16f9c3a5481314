//! The web dashboard at `/`: server-rendered pages (maud) with a little
//! JavaScript for what a page cannot do alone (uploads straight to storage,
//! live progress over SSE, charts, sortable tables). Signed in by a session
//! cookie; every form carries a CSRF token. Its assets are embedded in the
//! binary, so nothing is fetched from anywhere else.

mod account;
mod analysis;
mod assets;
mod browser;
mod form;
mod job;
mod jobs;
mod operations;
mod page;
mod results;
mod schema_form;
mod settings;
mod snapshot;
mod zip_entry;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use browser::Visitor;

/// The dashboard's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/{name}", get(assets::asset))
        .route("/signin", get(account::sign_in_page).post(account::sign_in))
        .route("/signup", get(account::sign_up_page).post(account::sign_up))
        .route("/signout", post(account::sign_out))
        .route("/settings", get(settings::page))
        .route("/settings/keys", post(settings::create_key))
        .route("/settings/keys/{id}/revoke", post(settings::revoke_key))
        .route("/settings/email", post(settings::set_email))
        .route("/new", get(analysis::page).post(analysis::submit))
        .route("/jobs", get(jobs::page))
        .route("/jobs/live", get(jobs::live))
        .route("/jobs/bulk", post(jobs::bulk))
        .route("/jobs/{id}", get(job::page))
        .route("/jobs/{id}/results", get(job::results_fragment))
        .route("/jobs/{id}/frames/{index}", get(results::frame))
        .route("/jobs/{id}/{action}", post(job::act))
        .route("/operations", get(operations::page))
        .route("/operations/live", get(operations::live))
        .route(
            "/operations/deliveries/{job_id}/{delivery_id}/redeliver",
            post(operations::redeliver),
        )
}

/// The jobs for someone signed in, the sign-in page for anyone else.
async fn home(visitor: Visitor) -> Redirect {
    match visitor.0 {
        Some(_) => Redirect::to("/jobs"),
        None => Redirect::to("/signin"),
    }
}
