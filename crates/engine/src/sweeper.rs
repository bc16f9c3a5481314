//! The sweeper removes what nobody else will: files of writes that never
//! ended (the process was killed), scratch directories of attempts that no
//! longer run, presigned uploads whose URL expired (row and objects) and,
//! with a retention period, ended jobs and uploads older than it. Every node
//! runs one, when it starts and then every `interval`.

use std::time::Duration;

use kinoflow_blobs::BlobError;
use kinoflow_store::{now_ms, JobState, PresignedUpload, StoreError};
use tokio_util::sync::CancellationToken;

use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::uploads::presigned_prefix;

/// How often and how much the sweeper removes.
#[derive(Debug, Clone)]
pub struct SweeperConfig {
    /// Time between two sweeps.
    pub interval: Duration,
    /// Ended jobs (with their artifacts) and uploads older than this are
    /// deleted; `None` keeps them until their owner deletes them.
    pub retention: Option<Duration>,
}

/// A file or directory that no record explains and that nobody touched for
/// this long is a leftover. Writes in progress touch their files all the time.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);
/// Records handled per query, so that a large backlog is read in pieces.
const BATCH: i64 = 100;

#[derive(Debug, thiserror::Error)]
enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("scratch directory: {0}")]
    Io(#[from] std::io::Error),
}

/// One node's sweeper.
pub struct Sweeper {
    engine: Engine,
    config: SweeperConfig,
}

impl Sweeper {
    pub fn new(engine: Engine, config: SweeperConfig) -> Self {
        Self { engine, config }
    }

    /// Sweeps now and then every interval, until `stop` fires.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            self.sweep().await;
            tokio::select! {
                _ = tokio::time::sleep(self.config.interval) => {}
                _ = stop.cancelled() => return,
            }
        }
    }

    /// One pass. Each part logs its own failure; the others still run.
    async fn sweep(&self) {
        let abandoned = self
            .engine
            .blobs
            .remove_abandoned_writes(ABANDONED_AFTER)
            .await;
        report(
            "temporary files of writes that never ended",
            abandoned.map_err(SweepError::from),
        );
        report(
            "scratch directories of attempts that no longer run",
            self.remove_orphan_scratch().await,
        );
        report(
            "presigned uploads whose URL expired",
            self.remove_expired_presigned().await,
        );
        if let Some(retention) = self.config.retention {
            let cutoff = now_ms() - retention.as_millis() as i64;
            report(
                "ended jobs past the retention period",
                self.remove_jobs_ended_before(cutoff).await,
            );
            report(
                "uploads past the retention period",
                self.remove_uploads_before(cutoff).await,
            );
        }
    }

    async fn remove_orphan_scratch(&self) -> Result<usize, SweepError> {
        let mut entries = match tokio::fs::read_dir(&self.engine.config.scratch_dir).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            entries => entries?,
        };
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            if self.is_orphan_scratch(&entry).await? {
                if entry.file_type().await?.is_dir() {
                    tokio::fs::remove_dir_all(entry.path()).await?;
                } else {
                    tokio::fs::remove_file(entry.path()).await?;
                }
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// An attempt's directory is an orphan once the job is not running that
    /// attempt any more (the process that ran it was killed); anything else
    /// (an upload being checked) once nobody touched it for long.
    async fn is_orphan_scratch(&self, entry: &tokio::fs::DirEntry) -> Result<bool, SweepError> {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((job_id, attempt)) = EngineConfig::attempt_of_scratch(&name) else {
            let untouched = entry.metadata().await?.modified()?.elapsed();
            return Ok(untouched.is_ok_and(|age| age > ABANDONED_AFTER));
        };
        let job = self.engine.store.get_job(job_id).await?;
        Ok(!job.is_some_and(|job| job.state == JobState::Running && job.attempts == attempt))
    }

    async fn remove_expired_presigned(&self) -> Result<usize, SweepError> {
        let mut removed = 0;
        loop {
            let expired = self
                .engine
                .store
                .expired_presigned_uploads(now_ms() / 1000, BATCH)
                .await?;
            for upload in &expired {
                self.remove_presigned(upload).await?;
            }
            removed += expired.len();
            if expired.len() < BATCH as usize {
                return Ok(removed);
            }
        }
    }

    /// Removes a presigned upload's row and what it received; a completed
    /// one's file has moved to its upload and stays.
    async fn remove_presigned(&self, upload: &PresignedUpload) -> Result<(), SweepError> {
        let blobs = &self.engine.blobs;
        blobs.delete(&upload.blob_key).await?;
        blobs.delete_prefix(&presigned_prefix(&upload.id)).await?;
        self.engine
            .store
            .delete_presigned_upload(&upload.id)
            .await?;
        Ok(())
    }

    async fn remove_jobs_ended_before(&self, cutoff: i64) -> Result<usize, SweepError> {
        let mut removed = 0;
        loop {
            let ended = self.engine.store.jobs_ended_before(cutoff, BATCH).await?;
            for job_id in &ended {
                self.engine.delete(job_id).await?;
            }
            removed += ended.len();
            if ended.len() < BATCH as usize {
                return Ok(removed);
            }
        }
    }

    /// Uploads a job that has not ended uses are never among them.
    async fn remove_uploads_before(&self, cutoff: i64) -> Result<usize, SweepError> {
        let mut removed = 0;
        loop {
            let old = self
                .engine
                .store
                .unused_uploads_before(cutoff, BATCH)
                .await?;
            for upload in &old {
                self.engine.delete_upload(&upload.id).await?;
            }
            removed += old.len();
            if old.len() < BATCH as usize {
                return Ok(removed);
            }
        }
    }
}

/// Logs what one part of a sweep removed, or why it failed.
fn report(what: &str, outcome: Result<usize, SweepError>) {
    match outcome {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "sweeper removed {what}"),
        Err(e) => tracing::warn!(error = %e, "sweeper could not remove {what}"),
    }
}
