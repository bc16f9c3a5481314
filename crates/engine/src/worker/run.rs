//! One run of a claimed job: its context prepared, its pipeline run until it
//! ends, is stopped or runs out of time, and its end handed to the keeper.

use std::path::{Path, PathBuf};
use std::time::Instant;

use kinoflow_store::{now_ms, JobEnd, JobRecord, LeaseToken, Outcome};
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio_util::sync::CancellationToken;

use super::holdings::Holdings;
use crate::artifacts::ArtifactSink;
use crate::backoff::retry_delay;
use crate::engine::Engine;
use crate::pipeline::{JobContext, Pipeline, PipelineError, RunSummary};
use crate::progress::ProgressReporter;
use crate::references;
use crate::stop::{JobStop, StopReason};

/// A run that is over, waiting for its end to be committed.
pub(super) struct Ended {
    pub end: JobEnd,
    pub pipeline: String,
    pub run_seconds: f64,
}

pub(super) struct Run {
    pub engine: Engine,
    pub job: JobRecord,
    pub lease: LeaseToken,
    pub stop: JobStop,
    pub progress: ProgressReporter,
    pub holdings: Holdings,
    pub ends: mpsc::Sender<Ended>,
    pub give_back: CancellationToken,
}

impl Run {
    /// Runs the job in `slot`, which is freed once its end is handed over.
    pub async fn run(self, slot: OwnedSemaphorePermit) {
        let job_id = self.job.id.clone();
        tracing::info!(job_id, pipeline = %self.job.pipeline, attempt = self.job.attempts, "job started");
        self.engine
            .running_jobs()
            .insert(job_id.clone(), self.stop.clone());
        let started = Instant::now();
        let result = self.execute().await;
        let run_seconds = started.elapsed().as_secs_f64();
        // Read once, now: a cancel that arrives after the run ended does not
        // undo its result.
        let stop_reason = self.stop.reason();
        self.engine.running_jobs().remove(&job_id);
        let unrecorded = self.holdings.end_run(&job_id);
        // A success records progress 1 with its outcome, and a stopped run's
        // progress is not worth keeping; otherwise the last progress stays.
        let last_progress = unrecorded.filter(|_| stop_reason.is_none() && result.is_err());
        match self.outcome(result, stop_reason).await {
            Some(outcome) => {
                let ended = Ended {
                    end: JobEnd {
                        job_id: job_id.clone(),
                        lease: self.lease.clone(),
                        outcome,
                        last_progress,
                    },
                    pipeline: self.job.pipeline.clone(),
                    run_seconds,
                };
                if self.ends.send(ended).await.is_err() {
                    tracing::error!(job_id, "the lease keeper is gone: this job's end is not recorded; the reaper will re-run it");
                    self.holdings.release(&job_id);
                }
            }
            None => {
                self.holdings.release(&job_id);
                self.engine
                    .metrics
                    .run_seconds
                    .with_label_values(&[self.job.pipeline.as_str(), "lease_lost"])
                    .observe(run_seconds);
            }
        }
        drop(slot);
    }

    /// Prepares the job's context and runs its pipeline until it ends, is
    /// stopped, or runs out of time.
    async fn execute(&self) -> Result<RunSummary, PipelineError> {
        let job = &self.job;
        let out_of_time = tokio::time::sleep(self.engine.config.run_time_limit(&job.pipeline));
        let pipeline = self.engine.pipelines.get(&job.pipeline).ok_or_else(|| {
            PipelineError::permanent(format!("pipeline {} is not available", job.pipeline))
        })?;
        if job.attempts > 1 {
            self.engine
                .remove_artifacts(&job.id)
                .await
                .map_err(|e| PipelineError::transient(e.to_string()))?;
        }
        let scratch = self.engine.config.attempt_scratch(&job.id, job.attempts);
        let _scratch = Scratch::make(pipeline.as_ref(), &scratch).await?;
        let input = self.input_path(&scratch).await?;
        let uploads = references::fetch_all(
            self.engine.store.as_ref(),
            self.engine.blobs.as_ref(),
            &pipeline.referenced_uploads(&job.params),
            &scratch,
        )
        .await?;
        let ctx = JobContext {
            job_id: job.id.clone(),
            attempt: job.attempts,
            input,
            uploads,
            params: job.params.clone(),
            progress: self.progress.clone(),
            cancel: self.stop.token().clone(),
            artifacts: ArtifactSink::new(
                self.engine.store.clone(),
                self.engine.blobs.clone(),
                job.id.clone(),
                self.lease.clone(),
                self.stop.clone(),
            ),
            scratch,
        };
        // The pipeline runs as its own task: a panic becomes a failed job, and
        // aborting the task drops its children (ffmpeg is killed on drop).
        let mut run = tokio::spawn(async move { pipeline.run(ctx).await });
        tokio::select! {
            joined = &mut run => joined.unwrap_or_else(|e| {
                tracing::error!(job_id = %job.id, error = %e, "pipeline task crashed");
                Err(PipelineError::permanent("internal error: the pipeline crashed"))
            }),
            _ = self.stop.token().cancelled() => {
                run.abort();
                Err(PipelineError::Cancelled)
            }
            _ = self.give_back.cancelled() => {
                self.stop.stop(StopReason::Shutdown);
                run.abort();
                Err(PipelineError::Cancelled)
            }
            _ = out_of_time => {
                tracing::warn!(job_id = %job.id, "the run went past its time limit: stopping it");
                self.stop.stop(StopReason::RunTimeLimit);
                run.abort();
                Err(PipelineError::Cancelled)
            }
        }
    }

    async fn input_path(&self, scratch: &Path) -> Result<Option<PathBuf>, PipelineError> {
        let Some(upload_id) = &self.job.upload_id else {
            return Ok(None);
        };
        let upload = self
            .engine
            .store
            .get_upload(upload_id)
            .await
            .map_err(|e| PipelineError::transient(e.to_string()))?
            .ok_or_else(|| {
                PipelineError::permanent(format!("the input upload {upload_id} is gone"))
            })?;
        let path = self
            .engine
            .blobs
            .local_path(&upload.blob_key, scratch)
            .await
            .map_err(|e| PipelineError::transient(format!("could not read the input: {e}")))?;
        Ok(Some(path))
    }

    /// How the run ended, as the job records it; `None` when the lease was
    /// lost and nothing may be written. What a stopped run stored goes.
    async fn outcome(
        &self,
        result: Result<RunSummary, PipelineError>,
        stop_reason: Option<StopReason>,
    ) -> Option<Outcome> {
        let job = &self.job;
        if let Err(error) = &result {
            log_cause(&job.id, error);
        }
        let outcome = match (result, stop_reason) {
            (_, Some(StopReason::LeaseLost)) => {
                tracing::warn!(job_id = %job.id, "lease lost: this worker's result is discarded");
                return None;
            }
            (_, Some(StopReason::Shutdown)) => Outcome::Released,
            (_, Some(StopReason::RunTimeLimit)) => Outcome::Failed {
                error: format!(
                    "ran longer than the {} s limit for {}",
                    self.engine
                        .config
                        .run_time_limit(&job.pipeline)
                        .as_secs_f64(),
                    job.pipeline
                ),
            },
            (_, Some(StopReason::CancelRequested)) | (Err(PipelineError::Cancelled), None) => {
                Outcome::Cancelled
            }
            (Ok(summary), None) => Outcome::Succeeded {
                warnings: summary.warnings,
            },
            (Err(PipelineError::Permanent { message, .. }), None) => {
                Outcome::Failed { error: message }
            }
            (Err(PipelineError::Transient { message, .. }), None)
                if job.attempts < job.max_attempts =>
            {
                let delay = retry_delay(
                    job.attempts,
                    self.engine.config.retry_base_delay,
                    self.engine.config.retry_max_delay,
                );
                Outcome::Retry {
                    error: message,
                    run_after: now_ms() + delay.as_millis() as i64,
                }
            }
            (Err(PipelineError::Transient { message, .. }), None) => Outcome::Failed {
                error: format!("{message} (gave up after {} attempts)", job.attempts),
            },
        };
        if matches!(outcome, Outcome::Cancelled | Outcome::Released)
            || stop_reason == Some(StopReason::RunTimeLimit)
        {
            if let Err(e) = self.engine.remove_artifacts(&job.id).await {
                tracing::warn!(job_id = %job.id, error = %e, "could not remove partial artifacts");
            }
        }
        Some(outcome)
    }
}

/// A run's scratch directory, made only for pipelines that use one and
/// removed when the run is over.
struct Scratch(Option<PathBuf>);

impl Scratch {
    async fn make(pipeline: &dyn Pipeline, path: &Path) -> Result<Self, PipelineError> {
        if !pipeline.uses_scratch() {
            return Ok(Self(None));
        }
        tokio::fs::create_dir_all(path)
            .await
            .map_err(|e| PipelineError::transient(format!("could not make scratch dir: {e}")))?;
        Ok(Self(Some(path.to_owned())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // Off the async threads: a scratch dir can hold many files.
            tokio::task::spawn_blocking(move || std::fs::remove_dir_all(path));
        }
    }
}

/// The error beneath a failed run goes to the log; the job keeps only its
/// message, which is written for the user.
fn log_cause(job_id: &str, error: &PipelineError) {
    if let Some(cause) = std::error::Error::source(error) {
        tracing::warn!(job_id, cause = ?cause, "the run failed");
    }
}
