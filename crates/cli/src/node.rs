//! A node that serves the API: engine, notifier, sweeper, scheduled backups
//! and HTTP together, as `kinoflow serve` runs them.

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::backup;
use crate::config::Config;
use crate::runtime::{open_parts, start_notifier, start_sweeper, token_secret, Parts};

/// Serves the API on `listener` (and runs the configured workers) until
/// `shutdown` fires; returns once everything has stopped.
pub async fn serve(
    config: &Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let Parts {
        store,
        engine,
        inference,
    } = open_parts(config).await?;
    let server_config = config.server_config(token_secret(config)?, &inference);
    let notifier = start_notifier(config, &store, &server_config.jwt_secret, shutdown.clone())?;
    let sweeper = start_sweeper(config, &engine, shutdown.clone());
    let backups = match config.backup_schedule()? {
        Some(schedule) => Some(
            backup::schedule::start(
                schedule,
                &config.deployment()?,
                &engine.metrics.registry,
                shutdown.clone(),
            )
            .await?,
        ),
        None => None,
    };
    let served = kinoflow_server::serve(
        engine,
        store,
        &server_config,
        listener,
        config.node.workers,
        shutdown,
    )
    .await;
    notifier.await?;
    sweeper.await?;
    if let Some(backups) = backups {
        backups.await?;
    }
    served
}
