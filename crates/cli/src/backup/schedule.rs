//! Backups on a schedule, as `serve` writes them (`backup_every`): each one
//! followed by rotation. A failure is logged as an error and the next one is
//! tried at its time; `kinoflow_backup_last_success_timestamp` on `/metrics`
//! says when one last succeeded, so that an alert can fire when none has
//! for too long.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus::{Gauge, Registry};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{BackupSource, Deployment};

/// How often backups are written, where, and how many are kept.
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    pub every: Duration,
    pub dir: PathBuf,
    pub keep: usize,
}

/// Starts writing backups of `deployment` every `schedule.every` (the
/// first one interval after the start) until `shutdown` fires; registers
/// the success gauge in `registry`.
pub async fn start(
    schedule: BackupSchedule,
    deployment: &Deployment,
    registry: &Registry,
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let last_success = Gauge::new(
        "kinoflow_backup_last_success_timestamp",
        "When the last scheduled backup succeeded, in seconds since the Unix epoch; 0: none yet.",
    )?;
    registry.register(Box::new(last_success.clone()))?;
    tracing::info!(every = ?schedule.every, dir = %schedule.dir.display(), keep = schedule.keep,
        "backups scheduled");
    // Opened here, outside the task: sqlx's migrations cannot be shown to
    // be `Send`.
    let source = BackupSource::open(deployment).await?;
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(schedule.every) => {}
                _ = shutdown.cancelled() => break,
            }
            // A backup under way when the node stops is finished, not cut.
            match source
                .back_up_and_rotate(&schedule.dir, schedule.keep)
                .await
            {
                Ok((archive, deleted)) => {
                    last_success.set(seconds_since_epoch());
                    tracing::info!(archive = %archive.path.display(), bytes = archive.size,
                        deleted = deleted.len(), "backup written");
                }
                Err(e) => tracing::error!(error = format!("{e:#}"), "the scheduled backup failed"),
            }
        }
        source.close().await;
    }))
}

fn seconds_since_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}
