//! Why and how a running job is told to stop.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// The reason a run was stopped; the first reason given wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The owner cancelled the job.
    CancelRequested,
    /// Another worker holds the job now: write nothing more.
    LeaseLost,
    /// This worker is shutting down: give the job back.
    Shutdown,
    /// The run went past its pipeline's time limit: fail the job.
    RunTimeLimit,
}

/// A running job's stop switch: a cancellation token plus the reason.
#[derive(Debug, Clone, Default)]
pub struct JobStop {
    token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
}

impl JobStop {
    pub fn stop(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.reason.get().copied()
    }

    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}
