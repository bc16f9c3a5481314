//! Workers: claim a job under a lease, run its pipeline with a heartbeat
//! beside it, and record how it ended. A reaper requeues jobs whose worker
//! stopped heartbeating.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kinoflow_store::{now_ms, ClaimedJob, Heartbeat, JobRecord, LeaseToken, Outcome, WorkerRecord};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::artifacts::ArtifactSink;
use crate::backoff::retry_delay;
use crate::engine::Engine;
use crate::pipeline::{JobContext, PipelineError, RunSummary};
use crate::progress::ProgressReporter;
use crate::stop::{JobStop, StopReason};

/// Starts the workers and the lease reaper of one process.
pub struct WorkerPool;

/// The running pool; [`WorkerPoolHandle::shutdown`] stops it gracefully.
pub struct WorkerPoolHandle {
    stop_claiming: CancellationToken,
    give_back: CancellationToken,
    tasks: JoinSet<()>,
}

impl WorkerPool {
    /// Starts `count` workers (and the reaper when `count` > 0).
    pub fn start(engine: Engine, count: usize) -> WorkerPoolHandle {
        let stop_claiming = CancellationToken::new();
        let give_back = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
        for n in 0..count {
            let worker = Worker {
                id: format!("{host}-{}-{n}", std::process::id()),
                engine: engine.clone(),
                stop_claiming: stop_claiming.clone(),
                give_back: give_back.clone(),
            };
            tasks.spawn(worker.run());
        }
        if count > 0 {
            tasks.spawn(reap_expired_leases(engine.clone(), stop_claiming.clone()));
            tasks.spawn(hear_new_jobs(engine.clone(), stop_claiming.clone()));
            let node = NodeAnnouncement {
                id: format!("{host}-{}", std::process::id()),
                host,
                concurrency: count,
            };
            tasks.spawn(node.keep_announcing(engine, stop_claiming.clone()));
        }
        WorkerPoolHandle {
            stop_claiming,
            give_back,
            tasks,
        }
    }
}

impl WorkerPoolHandle {
    /// Stops claiming, lets running jobs finish for up to `grace`, then stops
    /// the rest and gives their jobs back to the queue.
    pub async fn shutdown(mut self, grace: Duration) {
        self.stop_claiming.cancel();
        let drained = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::info!("grace period over: giving running jobs back to the queue");
            self.give_back.cancel();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

struct Worker {
    id: String,
    engine: Engine,
    stop_claiming: CancellationToken,
    give_back: CancellationToken,
}

impl Worker {
    async fn run(self) {
        let pipelines = self.engine.pipelines.names();
        let lease_ttl = self.engine.config.lease_ttl_ms();
        let max_running_per_user = self.engine.config.max_running_per_user.map(i64::from);
        while !self.stop_claiming.is_cancelled() {
            match self
                .engine
                .store
                .claim_job(&self.id, &pipelines, lease_ttl, max_running_per_user)
                .await
            {
                Ok(Some(claimed)) => self.run_claimed(claimed).await,
                Ok(None) => self.wait_for_work().await,
                Err(e) => {
                    tracing::warn!(worker = %self.id, error = %e, "could not claim a job");
                    self.wait_for_work().await;
                }
            }
        }
    }

    async fn wait_for_work(&self) {
        tokio::select! {
            _ = self.engine.wake.notified() => {}
            _ = tokio::time::sleep(self.engine.config.poll_interval) => {}
            _ = self.stop_claiming.cancelled() => {}
        }
    }

    async fn run_claimed(&self, claimed: ClaimedJob) {
        let ClaimedJob { job, lease } = claimed;
        tracing::info!(job_id = %job.id, pipeline = %job.pipeline, attempt = job.attempts, "job started");
        let stop = JobStop::default();
        self.engine
            .running_jobs()
            .insert(job.id.clone(), stop.clone());
        let progress = ProgressReporter::default();
        let (run_over, run_end) = tokio::sync::oneshot::channel();
        let heartbeat = tokio::spawn(heartbeat(
            self.engine.clone(),
            job.id.clone(),
            lease.clone(),
            progress.clone(),
            stop.clone(),
            run_end,
        ));
        let scratch = self.engine.config.attempt_scratch(&job.id, job.attempts);
        let started = Instant::now();
        let result = self
            .execute(&job, &lease, &scratch, progress, stop.clone())
            .await;
        let elapsed = started.elapsed().as_secs_f64();
        // Read before the last beat: a cancel that arrives after the run ended
        // does not undo its result.
        let stop_reason = stop.reason();
        // A success records progress 1 with its outcome; anything else keeps
        // the last progress the run reported.
        let _ = run_over.send(if result.is_ok() && stop_reason.is_none() {
            RunEnd::Succeeded
        } else {
            RunEnd::Other
        });
        let _ = heartbeat.await;
        self.engine.running_jobs().remove(&job.id);
        let _ = tokio::fs::remove_dir_all(&scratch).await;
        let outcome = self.record_outcome(&job, &lease, result, stop_reason).await;
        self.engine
            .metrics
            .run_seconds
            .with_label_values(&[job.pipeline.as_str(), outcome])
            .observe(elapsed);
    }

    /// Prepares the job's context and runs its pipeline until it ends, is
    /// stopped, or runs out of time.
    async fn execute(
        &self,
        job: &JobRecord,
        lease: &LeaseToken,
        scratch: &PathBuf,
        progress: ProgressReporter,
        stop: JobStop,
    ) -> Result<RunSummary, PipelineError> {
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
        tokio::fs::create_dir_all(scratch)
            .await
            .map_err(|e| PipelineError::transient(format!("could not make scratch dir: {e}")))?;
        let input = self.input_path(job, scratch).await?;
        let ctx = JobContext {
            job_id: job.id.clone(),
            attempt: job.attempts,
            input,
            params: job.params.clone(),
            progress,
            cancel: stop.token().clone(),
            artifacts: ArtifactSink::new(
                self.engine.store.clone(),
                self.engine.blobs.clone(),
                job.id.clone(),
                lease.clone(),
                stop.clone(),
            ),
            scratch: scratch.clone(),
        };
        // The pipeline runs as its own task: a panic becomes a failed job, and
        // aborting the task drops its children (ffmpeg is killed on drop).
        let mut run = tokio::spawn(async move { pipeline.run(ctx).await });
        tokio::select! {
            joined = &mut run => joined.unwrap_or_else(|e| {
                tracing::error!(job_id = %job.id, error = %e, "pipeline task crashed");
                Err(PipelineError::permanent("internal error: the pipeline crashed"))
            }),
            _ = stop.token().cancelled() => {
                run.abort();
                Err(PipelineError::Cancelled)
            }
            _ = self.give_back.cancelled() => {
                stop.stop(StopReason::Shutdown);
                run.abort();
                Err(PipelineError::Cancelled)
            }
            _ = out_of_time => {
                tracing::warn!(job_id = %job.id, "the run went past its time limit: stopping it");
                stop.stop(StopReason::RunTimeLimit);
                run.abort();
                Err(PipelineError::Cancelled)
            }
        }
    }

    async fn input_path(
        &self,
        job: &JobRecord,
        scratch: &std::path::Path,
    ) -> Result<Option<PathBuf>, PipelineError> {
        let Some(upload_id) = &job.upload_id else {
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

    async fn record_outcome(
        &self,
        job: &JobRecord,
        lease: &LeaseToken,
        result: Result<RunSummary, PipelineError>,
        stop_reason: Option<StopReason>,
    ) -> &'static str {
        if let Err(error) = &result {
            log_cause(&job.id, error);
        }
        let outcome = match (result, stop_reason) {
            (_, Some(StopReason::LeaseLost)) => {
                tracing::warn!(job_id = %job.id, "lease lost: this worker's result is discarded");
                return "lease_lost";
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
        // What a stopped run wrote is not a result.
        if matches!(outcome, Outcome::Cancelled | Outcome::Released)
            || stop_reason == Some(StopReason::RunTimeLimit)
        {
            if let Err(e) = self.engine.remove_artifacts(&job.id).await {
                tracing::warn!(job_id = %job.id, error = %e, "could not remove partial artifacts");
            }
        }
        let state = outcome_name(&outcome);
        match self.engine.store.finish_job(&job.id, lease, outcome).await {
            Ok(true) => tracing::info!(job_id = %job.id, state, "job ended"),
            Ok(false) => {
                tracing::warn!(job_id = %job.id, "lease lost before the result was written")
            }
            Err(e) => {
                tracing::error!(job_id = %job.id, error = %e, "could not record the job's end; the reaper will retry it")
            }
        }
        state
    }
}

fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded { .. } => "succeeded",
        Outcome::Failed { .. } => "failed",
        Outcome::Retry { .. } => "retrying",
        Outcome::Cancelled => "cancelled",
        Outcome::Released => "released",
    }
}

/// How a run ended, as far as its heartbeat needs to know.
enum RunEnd {
    Succeeded,
    Other,
}

/// Renews the lease, persists progress when it changed (at most once per
/// `progress_interval`), and turns a cancel request or a lost lease into a
/// stop. When the run is over it writes the last progress (unless the run
/// succeeded: its outcome sets progress to 1) and returns.
async fn heartbeat(
    engine: Engine,
    job_id: String,
    lease: LeaseToken,
    progress: ProgressReporter,
    stop: JobStop,
    mut run_end: tokio::sync::oneshot::Receiver<RunEnd>,
) {
    // Beat at least once a second so a cancel from another process arrives
    // quickly, and never less often than a third of the lease.
    let beat_every = engine
        .config
        .heartbeat_interval()
        .min(Duration::from_secs(1));
    let mut ticks = tokio::time::interval(engine.config.progress_interval.min(beat_every));
    let mut persisted_version = 0;
    let mut last_beat = Instant::now();
    loop {
        let last = tokio::select! {
            _ = ticks.tick() => false,
            end = &mut run_end => match end {
                Ok(RunEnd::Succeeded) => return,
                Ok(RunEnd::Other) | Err(_) => true,
            },
        };
        let snapshot = progress.snapshot();
        let changed = snapshot.version != persisted_version;
        if last && (!changed || stop.reason().is_some()) {
            return;
        }
        if !last && !changed && last_beat.elapsed() < beat_every {
            continue;
        }
        let update = changed.then(|| (snapshot.fraction, snapshot.stage.clone()));
        match engine
            .store
            .heartbeat(&job_id, &lease, engine.config.lease_ttl_ms(), update)
            .await
        {
            Ok(Heartbeat::Renewed) if last => return,
            Ok(Heartbeat::Renewed) => {
                persisted_version = snapshot.version;
                last_beat = Instant::now();
            }
            Ok(Heartbeat::CancelRequested) => return stop.stop(StopReason::CancelRequested),
            Ok(Heartbeat::LeaseLost) => return stop.stop(StopReason::LeaseLost),
            Err(e) => tracing::warn!(job_id, error = %e, "heartbeat failed"),
        }
        if last {
            return;
        }
    }
}

/// How often a worker process says it is alive.
pub const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(5);

/// What a worker process tells operators about itself.
struct NodeAnnouncement {
    id: String,
    host: String,
    concurrency: usize,
}

impl NodeAnnouncement {
    /// Announces this process every few seconds until it stops, then withdraws.
    async fn keep_announcing(self, engine: Engine, stop: CancellationToken) {
        let record = WorkerRecord {
            id: self.id.clone(),
            host: self.host,
            pid: std::process::id() as i64,
            pipelines: engine.pipelines.names(),
            concurrency: self.concurrency as i64,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: now_ms(),
            last_seen_at: now_ms(),
        };
        loop {
            let record = WorkerRecord {
                last_seen_at: now_ms(),
                ..record.clone()
            };
            if let Err(e) = engine.store.announce_worker(&record).await {
                tracing::warn!(error = %e, "could not announce this worker process");
            }
            tokio::select! {
                _ = tokio::time::sleep(ANNOUNCE_INTERVAL) => {}
                _ = stop.cancelled() => break,
            }
        }
        if let Err(e) = engine.store.forget_worker(&self.id).await {
            tracing::warn!(error = %e, "could not withdraw this worker process");
        }
    }
}

/// Wakes this process's idle workers when another process queues a job
/// (where the store can tell); polling covers the rest.
async fn hear_new_jobs(engine: Engine, stop: CancellationToken) {
    loop {
        tokio::select! {
            heard = engine.store.watch_new_jobs(engine.wake.clone()) => match heard {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, "lost the new-job notifications; polling meanwhile"),
            },
            _ = stop.cancelled() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(engine.config.poll_interval * 5) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// Requeues jobs whose worker stopped heartbeating.
async fn reap_expired_leases(engine: Engine, stop: CancellationToken) {
    let every = engine.config.heartbeat_interval();
    loop {
        match engine.store.reap_expired_leases().await {
            Ok(reaped) if !reaped.is_empty() => {
                tracing::warn!(jobs = ?reaped, "requeued jobs whose worker stopped responding");
                engine.wake.notify_waiters();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "lease reaper failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.cancelled() => return,
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
