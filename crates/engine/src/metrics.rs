//! The engine's Prometheus metrics. The registry is shared: the server adds
//! its HTTP metrics to it and serves the lot on `/metrics`.

use prometheus::{HistogramOpts, HistogramVec, Registry};

/// Counters and histograms the workers update.
#[derive(Clone)]
pub struct EngineMetrics {
    pub registry: Registry,
    /// Seconds from a run's start to its end, by pipeline and how it ended.
    pub run_seconds: HistogramVec,
}

impl EngineMetrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let run_seconds = HistogramVec::new(
            HistogramOpts::new(
                "kinoflow_job_run_seconds",
                "How long job runs took, by pipeline and outcome.",
            )
            .buckets(vec![
                0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
            ]),
            &["pipeline", "outcome"],
        )
        .expect("the metric definition is valid");
        registry
            .register(Box::new(run_seconds.clone()))
            .expect("the metric is registered once");
        Self {
            registry,
            run_seconds,
        }
    }
}

impl Default for EngineMetrics {
    fn default() -> Self {
        Self::new()
    }
}
