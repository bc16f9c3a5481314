//! HTTP metrics and the `/metrics` exposition. Job counts by state and the
//! queue depth are read from the store at scrape time, so every node reports
//! the same truth.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use kinoflow_engine::store::JobState;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::error::ApiError;
use crate::state::AppState;

/// Request latency by route, method and status.
#[derive(Clone)]
pub struct HttpMetrics {
    latency: HistogramVec,
    jobs: IntGaugeVec,
    queue_depth: IntGaugeVec,
}

impl HttpMetrics {
    pub fn register(registry: &Registry) -> Self {
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kinoflow_http_request_duration_seconds",
                "HTTP request latency by route, method and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("the metric definition is valid");
        let jobs = IntGaugeVec::new(
            Opts::new("kinoflow_jobs", "Jobs by pipeline and state."),
            &["pipeline", "state"],
        )
        .expect("the metric definition is valid");
        let queue_depth = IntGaugeVec::new(
            Opts::new(
                "kinoflow_queue_depth",
                "Jobs waiting to run (queued or retrying), by pipeline.",
            ),
            &["pipeline"],
        )
        .expect("the metric definition is valid");
        for metric in [
            Box::new(latency.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(jobs.clone()),
            Box::new(queue_depth.clone()),
        ] {
            registry
                .register(metric)
                .expect("each metric is registered once");
        }
        Self {
            latency,
            jobs,
            queue_depth,
        }
    }
}

/// The methods that are labelled by name; any other is `other`.
const KNOWN_METHODS: [Method; 9] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
    Method::CONNECT,
    Method::TRACE,
];

/// A request's method as a label. A client may send any token as a method,
/// and each label value makes new series that are kept for good.
fn method_label(method: &Method) -> &str {
    if KNOWN_METHODS.contains(method) {
        method.as_str()
    } else {
        "other"
    }
}

/// Times every request under its route pattern (not its raw path, which
/// would make one series per job id): no label takes a value the client chose.
pub async fn track_latency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method()).to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    state
        .http_metrics
        .latency
        .with_label_values(&[&method, &route, response.status().as_str()])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Result<String, ApiError> {
    let counts = state.engine.count_jobs().await?;
    let metrics = &state.http_metrics;
    metrics.jobs.reset();
    metrics.queue_depth.reset();
    for pipeline in state.engine.pipelines.names() {
        metrics.queue_depth.with_label_values(&[&pipeline]).set(0);
    }
    for count in counts {
        metrics
            .jobs
            .with_label_values(&[&count.pipeline, count.state.as_str()])
            .set(count.count);
        if matches!(count.state, JobState::Queued | JobState::Retrying) {
            metrics
                .queue_depth
                .with_label_values(&[&count.pipeline])
                .add(count.count);
        }
    }
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&state.engine.metrics.registry.gather(), &mut body)
        .map_err(ApiError::internal)?;
    String::from_utf8(body).map_err(ApiError::internal)
}
