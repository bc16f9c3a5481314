//! kinoflow's HTTP API: the `/v1` routes (auth, uploads, jobs, events,
//! artifacts, links, webhooks, pipelines), operations (`/health`, `/ready`,
//! `/metrics`), the APIs of the services kinoflow replaces, and the OpenAPI
//! document generated from the handlers themselves.

mod auth;
mod compat;
mod cors;
mod dashboard;
mod error;
mod extract;
mod listener;
mod metrics;
mod notices;
mod openapi;
mod quota;
mod routes;
mod shared;
mod signing;
mod state;
mod views;

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use kinoflow_engine::store::Store;
use kinoflow_engine::{Engine, WorkerPool};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::{hash_password, AuthQuotas};
pub use cors::parse_origin;
pub use error::ApiError;
pub use listener::ConnectionLimits;
pub use routes::auth::{check_new_account, normalise_email};
pub use routes::links::ResultLinks;
pub use state::{AppState, CompatSettings, ServerConfig};

use routes::{
    admin, artifacts, auth as auth_routes, deliveries, events, jobs, links, operations, pipelines,
    presign, uploads, webhooks,
};

/// The largest request body outside uploads: JSON and forms. A batch of
/// 1000 jobs fits with 2 KiB for each.
pub const SMALL_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The whole HTTP application for `state`. It starts relaying live progress
/// to Socket.IO clients, so it is called within the server's runtime.
pub fn app(state: AppState) -> Router {
    // Uploads stream to storage under their own size limit; every other body
    // is small and capped by the default limit below.
    let streamed = OpenApiRouter::new()
        .routes(routes!(uploads::create_upload))
        .routes(routes!(presign::put_content))
        .routes(routes!(presign::put_part))
        .routes(routes!(jobs::create_job, jobs::list_jobs))
        .layer(DefaultBodyLimit::disable());
    let small = OpenApiRouter::new()
        .routes(routes!(jobs::create_jobs))
        .routes(routes!(auth_routes::register))
        .routes(routes!(auth_routes::token))
        .routes(routes!(auth_routes::me, auth_routes::update_me))
        .routes(routes!(
            auth_routes::create_api_key,
            auth_routes::list_api_keys
        ))
        .routes(routes!(auth_routes::revoke_api_key))
        .routes(routes!(uploads::get_upload, uploads::delete_upload))
        .routes(routes!(presign::presign))
        .routes(routes!(presign::complete))
        .routes(routes!(presign::received_parts))
        .routes(routes!(jobs::get_job, jobs::delete_job))
        .routes(routes!(jobs::cancel_job))
        .routes(routes!(events::job_events))
        .routes(routes!(artifacts::list_artifacts))
        .routes(routes!(artifacts::get_artifact))
        .routes(routes!(artifacts::archive))
        .routes(routes!(links::create_link))
        .routes(routes!(links::follow_link))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::delete_webhook))
        .routes(routes!(webhooks::rotate_webhook_secret))
        .routes(routes!(webhooks::callback_secret))
        .routes(routes!(webhooks::rotate_callback_secret))
        .routes(routes!(deliveries::list_deliveries))
        .routes(routes!(deliveries::redeliver))
        .routes(routes!(pipelines::list_pipelines))
        .routes(routes!(admin::list_workers))
        .routes(routes!(admin::queue))
        .routes(routes!(operations::health))
        .routes(routes!(operations::ready))
        .routes(routes!(metrics::metrics))
        .layer(axum::middleware::from_fn(error::refuse_announced_oversize));
    let (router, api) = OpenApiRouter::with_openapi(openapi::base())
        .merge(streamed)
        .merge(small)
        .merge(compat::router())
        .split_for_parts();
    let api = openapi::finish(api);
    router
        .route("/openapi.json", get(move || async move { Json(api) }))
        .merge(dashboard::router())
        .fallback(|| async { ApiError::not_found("route") })
        .layer(axum::middleware::from_fn(error::errors_in_json))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track_latency,
        ))
        .layer(DefaultBodyLimit::max(SMALL_BODY_LIMIT))
        .layer(CatchPanicLayer::custom(|panic: Box<dyn Any + Send>| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            axum::response::IntoResponse::into_response(ApiError::internal(format!(
                "handler panicked: {what}"
            )))
        }))
        .layer(axum::middleware::from_fn(error::log_server_errors))
        // Socket.IO answers its own requests (long polls and WebSockets),
        // outside the error layers and inside CORS.
        .layer(compat::socket_io(&state))
        // Outside the error layers, so that errors carry the headers too.
        .layer(tower::util::option_layer(cors::layer(&state.cors_origins)))
        // The span names the path, never the query: a query can carry a
        // secret (a Socket.IO handshake's token, a trainer's webhook token).
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

/// Serves the API (and, with `workers` > 0, runs workers) until `shutdown`
/// fires; then stops accepting, lets running jobs finish within the grace
/// period and gives the rest back to the queue.
pub async fn serve(
    engine: Engine,
    store: Arc<dyn Store>,
    config: &ServerConfig,
    listener: TcpListener,
    workers: usize,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let address: SocketAddr = listener.local_addr()?;
    compat::prepare_tables(store.as_ref()).await?;
    let state = AppState::new(engine.clone(), store, config, address, shutdown.clone());
    compat::watch(&state);
    let pool = WorkerPool::start(engine.clone(), workers);
    tracing::info!(%address, workers, "listening on http://{address}");
    let http = listener::serve(listener, app(state), config.connections, shutdown.clone());
    let grace: Duration = engine.config.shutdown_grace;
    let drain_workers = async {
        shutdown.cancelled().await;
        tracing::info!(?grace, "shutting down: no new jobs are claimed");
        pool.shutdown(grace).await;
    };
    tokio::join!(http, drain_workers);
    tracing::info!("stopped");
    Ok(())
}
