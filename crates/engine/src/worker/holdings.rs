//! The jobs a node holds a lease on, from their claim until their end is
//! committed: what the keeper renews, and what it needs to know of each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use kinoflow_store::{LeaseRenewal, LeaseToken};

use crate::progress::ProgressReporter;
use crate::stop::JobStop;

/// One held lease.
pub(super) struct Held {
    pub lease: LeaseToken,
    pub progress: ProgressReporter,
    pub stop: JobStop,
    /// The progress version last recorded in the database.
    pub recorded_version: u64,
    /// The run is over and its end waits to be committed: its progress is
    /// the end's to record, not the keeper's.
    pub ended: bool,
}

/// The node's held leases, shared by the producer, the runs and the keeper.
#[derive(Clone, Default)]
pub(super) struct Holdings(Arc<Mutex<HashMap<String, Held>>>);

impl Holdings {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Held>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn hold(&self, job_id: &str, held: Held) {
        self.lock().insert(job_id.to_owned(), held);
    }

    pub fn release(&self, job_id: &str) {
        self.lock().remove(job_id);
    }

    /// Marks the run over; the progress it reported that was not recorded
    /// yet, if any.
    pub fn end_run(&self, job_id: &str) -> Option<(f64, Option<String>)> {
        let mut held = self.lock();
        let held = held.get_mut(job_id)?;
        held.ended = true;
        let snapshot = held.progress.snapshot();
        (snapshot.version != held.recorded_version).then_some((snapshot.fraction, snapshot.stage))
    }

    /// A renewal for every held lease, with the progress of running jobs
    /// that reported some since it was last recorded (and its version).
    pub fn renewals(&self) -> Vec<(LeaseRenewal, u64)> {
        self.lock()
            .iter()
            .map(|(job_id, held)| {
                let snapshot = held.progress.snapshot();
                let changed = !held.ended && snapshot.version != held.recorded_version;
                let renewal = LeaseRenewal {
                    job_id: job_id.clone(),
                    lease: held.lease.clone(),
                    progress: changed.then_some((snapshot.fraction, snapshot.stage)),
                };
                (renewal, snapshot.version)
            })
            .collect()
    }

    /// Notes that progress up to `version` is recorded.
    pub fn recorded(&self, job_id: &str, version: u64) {
        if let Some(held) = self.lock().get_mut(job_id) {
            held.recorded_version = held.recorded_version.max(version);
        }
    }

    /// The stop handle of a held job.
    pub fn stop_of(&self, job_id: &str) -> Option<JobStop> {
        self.lock().get(job_id).map(|held| held.stop.clone())
    }
}
