//! `kinoflow serve`: the API and workers in one process.

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::runtime::{
    open_engine, require_media_tools, server_config, start_notifier, start_sweeper,
};
use crate::settings::Settings;

pub async fn serve(settings: Settings, print_config: bool) -> anyhow::Result<()> {
    if print_config {
        print!("{}", settings.to_masked_toml()?);
        return Ok(());
    }
    require_media_tools().await?;
    let engine = open_engine(&settings).await?;
    let config = server_config(&settings)?;
    let bind = settings.bind.as_deref().unwrap_or_default();
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("could not listen on {bind}"))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let notifier = start_notifier(&settings, &engine, &config.jwt_secret, shutdown.clone())?;
    let sweeper = start_sweeper(&settings, &engine, shutdown.clone());
    let served = kinoflow_server::serve(
        engine,
        &config,
        listener,
        settings.workers.unwrap_or(1),
        shutdown,
    )
    .await;
    notifier.await?;
    sweeper.await?;
    served
}

/// SIGINT or SIGTERM starts a graceful shutdown.
pub(crate) async fn cancel_on_signal(shutdown: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("signal received");
    shutdown.cancel();
}
