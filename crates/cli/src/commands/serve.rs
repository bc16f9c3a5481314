//! `kinoflow serve`: the API and workers in one process.

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use kinoflow::config::Config;
use kinoflow::runtime::require_media_tools;

pub async fn serve(config: Config, print_config: bool) -> anyhow::Result<()> {
    if print_config {
        print!("{}", config.to_masked_toml()?);
        return Ok(());
    }
    require_media_tools().await?;
    let bind = &config.node.bind;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("could not listen on {bind}"))?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    kinoflow::node::serve(&config, listener, shutdown).await
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
