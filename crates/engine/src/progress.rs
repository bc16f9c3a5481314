//! How a running pipeline says how far it is. Reporting is cheap (memory
//! only); the node's lease keeper records the latest value as it renews the
//! lease, at a throttled pace.

use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProgressState {
    pub fraction: f64,
    pub stage: Option<String>,
    /// Bumped on every report, so the lease keeper knows whether anything changed.
    pub version: u64,
}

/// A handle a pipeline reports progress through.
#[derive(Debug, Clone, Default)]
pub struct ProgressReporter {
    state: Arc<Mutex<ProgressState>>,
}

impl ProgressReporter {
    /// Reports `fraction` (clamped to 0..=1) of the work done, in `stage`.
    pub fn report(&self, fraction: f64, stage: &str) {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.fraction = fraction;
        if state.stage.as_deref() != Some(stage) {
            state.stage = Some(stage.to_owned());
        }
        state.version += 1;
    }

    pub(crate) fn snapshot(&self) -> ProgressState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
