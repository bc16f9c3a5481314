//! Workers. Each node runs one [`producer`] that claims jobs in batches for
//! its free slots and runs each in a task of its own ([`run`]), and one
//! [`keeper`] that renews every lease the node holds in one statement and
//! records finished jobs in batches. A reaper requeues jobs whose node
//! stopped renewing their leases.

mod holdings;
mod keeper;
mod producer;
mod run;

use std::time::Duration;

use kinoflow_store::{now_ms, WorkerRecord};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use holdings::Holdings;
use keeper::LeaseKeeper;
use producer::Producer;

/// Starts the workers and the lease reaper of one process.
pub struct WorkerPool;

/// The running pool; [`WorkerPoolHandle::shutdown`] stops it gracefully.
pub struct WorkerPoolHandle {
    stop_claiming: CancellationToken,
    give_back: CancellationToken,
    tasks: JoinSet<()>,
}

impl WorkerPool {
    /// Starts `count` job slots (with the lease keeper and the reaper when
    /// `count` > 0) and announces the node, whatever its count.
    pub fn start(engine: Engine, count: usize) -> WorkerPoolHandle {
        let stop_claiming = CancellationToken::new();
        let give_back = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
        let node_id = format!("{host}-{}", std::process::id());
        if count > 0 {
            let holdings = Holdings::default();
            // Each run sends its end once; a slot is not freed before it has.
            let (ends, ended) = mpsc::channel(count * 2);
            let producer = Producer {
                node_id: node_id.clone(),
                slots: count,
                engine: engine.clone(),
                holdings: holdings.clone(),
                ends,
                stop_claiming: stop_claiming.clone(),
                give_back: give_back.clone(),
            };
            tasks.spawn(producer.run());
            tasks.spawn(LeaseKeeper::new(engine.clone(), holdings, ended).run());
            tasks.spawn(reap_expired_leases(engine.clone(), stop_claiming.clone()));
            tasks.spawn(hear_new_jobs(engine.clone(), stop_claiming.clone()));
        }
        // An API-only node announces itself too (with no workers): operators
        // see it, and a restore knows the database is in use.
        let node = NodeAnnouncement {
            id: node_id,
            host,
            concurrency: count,
        };
        tasks.spawn(node.keep_announcing(engine, stop_claiming.clone()));
        WorkerPoolHandle {
            stop_claiming,
            give_back,
            tasks,
        }
    }
}

impl WorkerPoolHandle {
    /// Stops claiming, lets running jobs finish for up to `grace`, then stops
    /// the rest and gives their jobs back to the queue. Returns once every
    /// end has been recorded (or given up on: the reaper re-runs those).
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

/// How often a worker process says it is alive.
pub const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(5);

/// A worker process not heard from for this long (three announcements
/// missed) is taken for gone.
pub const ANNOUNCEMENT_TIMEOUT: Duration = ANNOUNCE_INTERVAL.saturating_mul(3);

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
