//! `kinoflow worker`: workers only, no HTTP API — a worker node that shares
//! the database and the storage with the API nodes.

use kinoflow_engine::WorkerPool;
use tokio_util::sync::CancellationToken;

use crate::commands::serve::cancel_on_signal;
use crate::runtime::{
    open_engine, require_media_tools, start_notifier, start_sweeper, token_secret,
};
use crate::settings::Settings;

pub async fn work(settings: Settings) -> anyhow::Result<()> {
    require_media_tools().await?;
    let engine = open_engine(&settings).await?;
    let workers = settings.workers.unwrap_or(1).max(1);
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let notifier = start_notifier(
        &settings,
        &engine,
        &token_secret(&settings)?,
        shutdown.clone(),
    )?;
    let sweeper = start_sweeper(&settings, &engine, shutdown.clone());
    let pool = WorkerPool::start(engine.clone(), workers);
    tracing::info!(workers, "worker node started");
    shutdown.cancelled().await;
    tracing::info!("shutting down: no new jobs are claimed");
    pool.shutdown(engine.config.shutdown_grace).await;
    notifier.await?;
    sweeper.await?;
    tracing::info!("stopped");
    Ok(())
}
