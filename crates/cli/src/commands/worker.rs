//! `kinoflow worker`: workers only, no HTTP API — a worker node that shares
//! the database and the storage with the API nodes.

use kinoflow_engine::WorkerPool;
use tokio_util::sync::CancellationToken;

use crate::commands::serve::cancel_on_signal;
use kinoflow::config::Config;
use kinoflow::runtime::{
    open_parts, require_media_tools, start_notifier, start_sweeper, token_secret, Parts,
};

pub async fn work(config: Config) -> anyhow::Result<()> {
    require_media_tools().await?;
    let Parts { store, engine, .. } = open_parts(&config).await?;
    // A worker node is for running jobs: 0 workers would make it idle.
    let workers = config.node.workers.max(1);
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let notifier = start_notifier(&config, &store, &token_secret(&config)?, shutdown.clone())?;
    let sweeper = start_sweeper(&config, &engine, shutdown.clone());
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
