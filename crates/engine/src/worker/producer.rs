//! The producer: claims, in one claim, as many jobs as the node has free
//! slots, and starts a run for each; when the queue has nothing for it, it
//! waits to be woken (a job queued here or announced by the database) or
//! polls.

use std::sync::Arc;

use kinoflow_store::ClaimRequest;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::holdings::{Held, Holdings};
use super::run::{Ended, Run};
use crate::engine::Engine;
use crate::progress::ProgressReporter;
use crate::stop::JobStop;

pub(super) struct Producer {
    pub node_id: String,
    pub slots: usize,
    pub engine: Engine,
    pub holdings: Holdings,
    pub ends: mpsc::Sender<Ended>,
    pub stop_claiming: CancellationToken,
    pub give_back: CancellationToken,
}

impl Producer {
    /// Claims and starts jobs until told to stop claiming, then waits for
    /// the runs it started.
    pub async fn run(self) {
        let free = Arc::new(Semaphore::new(self.slots));
        let mut runs = JoinSet::new();
        let mut request = ClaimRequest {
            worker_id: self.node_id.clone(),
            pipelines: self.engine.pipelines.names(),
            lease_ttl_ms: self.engine.config.lease_ttl_ms(),
            max_running_per_owner: self.engine.config.max_running_per_user.map(i64::from),
            limit: 0,
        };
        while let Some(mut slots) = self.free_slots(&free).await {
            request.limit = slots.num_permits();
            match self.engine.store.claim_jobs(&request).await {
                Ok(claimed) => {
                    let drained = claimed.len() < request.limit;
                    for claimed in claimed {
                        let Some(slot) = slots.split(1) else {
                            break;
                        };
                        runs.spawn(self.start(claimed, slot));
                    }
                    drop(slots);
                    if drained {
                        self.wait_for_work().await;
                    }
                }
                Err(e) => {
                    drop(slots);
                    tracing::warn!(error = %e, "could not claim jobs");
                    self.wait_for_work().await;
                }
            }
            while runs.try_join_next().is_some() {}
        }
        while runs.join_next().await.is_some() {}
    }

    /// Waits for a free slot and takes every slot free then; `None` once
    /// claiming stops.
    async fn free_slots(&self, free: &Arc<Semaphore>) -> Option<OwnedSemaphorePermit> {
        let mut slots = tokio::select! {
            permit = free.clone().acquire_owned() => permit.ok()?,
            _ = self.stop_claiming.cancelled() => return None,
        };
        let more = free.available_permits();
        if more > 0 {
            if let Ok(extra) = free.clone().try_acquire_many_owned(more as u32) {
                slots.merge(extra);
            }
        }
        Some(slots)
    }

    /// Holds the claimed job's lease and runs it in `slot`.
    fn start(
        &self,
        claimed: kinoflow_store::ClaimedJob,
        slot: OwnedSemaphorePermit,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let stop = JobStop::default();
        let progress = ProgressReporter::default();
        self.holdings.hold(
            &claimed.job.id,
            Held {
                lease: claimed.lease.clone(),
                progress: progress.clone(),
                stop: stop.clone(),
                recorded_version: 0,
                ended: false,
            },
        );
        let run = Run {
            engine: self.engine.clone(),
            job: claimed.job,
            lease: claimed.lease,
            stop,
            progress,
            holdings: self.holdings.clone(),
            ends: self.ends.clone(),
            give_back: self.give_back.clone(),
        };
        run.run(slot)
    }

    async fn wait_for_work(&self) {
        tokio::select! {
            _ = self.engine.wake.notified() => {}
            _ = tokio::time::sleep(self.engine.config.poll_interval) => {}
            _ = self.stop_claiming.cancelled() => {}
        }
    }
}
