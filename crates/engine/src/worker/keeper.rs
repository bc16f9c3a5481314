//! The lease keeper: one task per node that renews every lease the node
//! holds in one statement (learning of cancels on the way) and writes the
//! ends of finished runs in batches, one transaction each. Both touch the
//! same rows, so one task does both and they never contend.
//!
//! A job is reported ended only by the rows its batch commits; until then it
//! is `running` under its lease, which stays renewed. Should the node die in
//! between, the lease expires and the reaper runs the job again.

use std::time::Duration;

use kinoflow_store::{Heartbeat, JobEnd, Outcome};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant, MissedTickBehavior};

use super::holdings::Holdings;
use super::run::Ended;
use crate::engine::Engine;
use crate::stop::StopReason;

/// The most ends written in one transaction.
const MAX_BATCH: usize = 512;
/// Tries at writing a batch before leaving its jobs to the reaper.
const COMMIT_ATTEMPTS: u32 = 5;

pub(super) struct LeaseKeeper {
    engine: Engine,
    holdings: Holdings,
    ended: mpsc::Receiver<Ended>,
}

impl LeaseKeeper {
    pub fn new(engine: Engine, holdings: Holdings, ended: mpsc::Receiver<Ended>) -> Self {
        Self {
            engine,
            holdings,
            ended,
        }
    }

    /// Renews and commits until every run has handed over its end and the
    /// producer is gone. Ends wait up to the completion window for others
    /// (the slots they freed take new jobs meanwhile, whose ends may join
    /// them); leases are renewed meanwhile.
    pub async fn run(mut self) {
        // Renew at least once a second, so a cancel from another process
        // arrives quickly, never less often than a third of the lease, and
        // record progress at its own pace.
        let every = self
            .engine
            .config
            .heartbeat_interval()
            .min(Duration::from_secs(1))
            .min(self.engine.config.progress_interval);
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut pending: Vec<Ended> = Vec::new();
        let mut flush_at = Instant::now();
        let mut open = true;
        loop {
            let due = !pending.is_empty() && (!open || pending.len() >= MAX_BATCH);
            if due {
                self.commit(std::mem::take(&mut pending)).await;
                continue;
            }
            if !open && pending.is_empty() {
                return;
            }
            tokio::select! {
                biased;
                received = self.ended.recv(), if open => match received {
                    Some(ended) => {
                        if pending.is_empty() {
                            flush_at = Instant::now() + self.engine.config.completion_window;
                        }
                        pending.push(ended);
                    }
                    None => open = false,
                },
                _ = sleep_until(flush_at), if !pending.is_empty() => {
                    self.commit(std::mem::take(&mut pending)).await;
                }
                _ = ticks.tick() => self.renew().await,
            }
        }
    }

    /// Writes a batch of ends in one transaction, trying again a few times
    /// when the database fails; then releases their leases.
    async fn commit(&self, batch: Vec<Ended>) {
        let ends: Vec<JobEnd> = batch.iter().map(|ended| ended.end.clone()).collect();
        let mut pause = Duration::from_millis(50);
        for attempt in 1..=COMMIT_ATTEMPTS {
            match self.engine.store.finish_jobs(ends.clone()).await {
                Ok(written) => {
                    for (ended, written) in batch.iter().zip(written) {
                        self.settle(ended, written);
                    }
                    return;
                }
                Err(e) if attempt < COMMIT_ATTEMPTS => {
                    tracing::warn!(jobs = batch.len(), error = %e, "could not record jobs' ends; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(e) => {
                    tracing::error!(jobs = batch.len(), error = %e, "could not record jobs' ends; the reaper will run them again");
                }
            }
        }
        for ended in &batch {
            self.holdings.release(&ended.end.job_id);
        }
    }

    /// After a batch committed: logs one job's end and lets its lease go.
    fn settle(&self, ended: &Ended, written: bool) {
        let job_id = ended.end.job_id.as_str();
        let state = if written {
            let state = state_name(&ended.end.outcome);
            tracing::info!(job_id, state, "job ended");
            state
        } else {
            tracing::warn!(job_id, "lease lost before the result was written");
            "lease_lost"
        };
        self.engine
            .metrics
            .run_seconds
            .with_label_values(&[ended.pipeline.as_str(), state])
            .observe(ended.run_seconds);
        self.holdings.release(job_id);
    }

    /// Renews every held lease in one call, records reported progress, and
    /// stops the runs whose job was cancelled or whose lease was lost.
    async fn renew(&self) {
        let (renewals, versions): (Vec<_>, Vec<_>) = self.holdings.renewals().into_iter().unzip();
        if renewals.is_empty() {
            return;
        }
        let ttl = self.engine.config.lease_ttl_ms();
        let answers = match self.engine.store.renew_leases(&renewals, ttl).await {
            Ok(answers) => answers,
            Err(e) => {
                tracing::warn!(leases = renewals.len(), error = %e, "could not renew leases");
                return;
            }
        };
        for ((renewal, version), answer) in renewals.iter().zip(versions).zip(answers) {
            let job_id = renewal.job_id.as_str();
            if answer != Heartbeat::LeaseLost && renewal.progress.is_some() {
                self.holdings.recorded(job_id, version);
            }
            let reason = match answer {
                Heartbeat::Renewed => continue,
                Heartbeat::CancelRequested => StopReason::CancelRequested,
                Heartbeat::LeaseLost => StopReason::LeaseLost,
            };
            if let Some(stop) = self.holdings.stop_of(job_id) {
                stop.stop(reason);
            }
        }
    }
}

/// The state an outcome leaves its job in, for the log and the metrics.
fn state_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded { .. } => "succeeded",
        Outcome::Failed { .. } => "failed",
        Outcome::Retry { .. } => "retrying",
        Outcome::Cancelled => "cancelled",
        Outcome::Released => "released",
    }
}
