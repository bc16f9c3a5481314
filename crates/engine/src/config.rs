//! The engine's knobs, with the defaults the design names.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// How the engine runs jobs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// A job whose worker stops heartbeating is requeued after this long.
    pub lease_ttl: Duration,
    /// How many times a job may start before a failure is final.
    pub max_attempts: i64,
    /// The first retry waits about this long; each later one twice as long.
    pub retry_base_delay: Duration,
    /// No retry waits longer than this.
    pub retry_max_delay: Duration,
    /// How often an idle worker looks for work when nothing woke it.
    pub poll_interval: Duration,
    /// How often progress is written at most (it doubles as the heartbeat).
    pub progress_interval: Duration,
    /// Where jobs get their scratch directories.
    pub scratch_dir: PathBuf,
    /// On shutdown, how long running jobs may go on before they are given back.
    pub shutdown_grace: Duration,
    /// A user's waiting jobs are not claimed while this many of theirs run.
    pub max_running_per_user: Option<u32>,
    /// A run that goes on longer than this is stopped and its job failed.
    pub max_run_time: Duration,
    /// Pipelines whose runs have a limit of their own instead of `max_run_time`.
    pub max_run_time_by_pipeline: HashMap<String, Duration>,
    /// How long a finished run's end waits for others to be written with it
    /// in one transaction.
    pub completion_window: Duration,
}

impl EngineConfig {
    pub fn new(scratch_dir: PathBuf) -> Self {
        Self {
            lease_ttl: Duration::from_secs(30),
            max_attempts: 3,
            retry_base_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(600),
            poll_interval: Duration::from_secs(1),
            progress_interval: Duration::from_millis(500),
            scratch_dir,
            shutdown_grace: Duration::from_secs(30),
            max_running_per_user: None,
            max_run_time: Duration::from_secs(6 * 3600),
            max_run_time_by_pipeline: HashMap::new(),
            completion_window: Duration::from_millis(2),
        }
    }

    /// The scratch directory of one attempt at a job.
    pub fn attempt_scratch(&self, job_id: &str, attempt: i64) -> PathBuf {
        self.scratch_dir.join(format!("{job_id}-{attempt}"))
    }

    /// The job and attempt whose scratch directory has this name, if it is one.
    pub(crate) fn attempt_of_scratch(name: &str) -> Option<(&str, i64)> {
        let (job_id, attempt) = name.rsplit_once('-')?;
        uuid::Uuid::parse_str(job_id).ok()?;
        Some((job_id, attempt.parse().ok()?))
    }

    /// How long a run of `pipeline` may go on.
    pub fn run_time_limit(&self, pipeline: &str) -> Duration {
        self.max_run_time_by_pipeline
            .get(pipeline)
            .copied()
            .unwrap_or(self.max_run_time)
    }

    /// A heartbeat every third of the lease keeps it alive through two missed beats.
    pub fn heartbeat_interval(&self) -> Duration {
        (self.lease_ttl / 3).max(Duration::from_millis(100))
    }

    pub fn lease_ttl_ms(&self) -> i64 {
        self.lease_ttl.as_millis() as i64
    }
}
