//! The operations page, for administrators: queue depth and age by pipeline
//! and state, throughput and failures over the last hour and day, run-time
//! percentiles, workers and their heartbeats, running jobs, and the latest
//! webhook and e-mail deliveries with redeliver. All of it is read from the
//! store, so it survives restarts and covers every node; the page updates
//! itself over SSE with the same HTML the server renders first.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kinoflow_engine::store::{now_ms, EndedJob, JobFilter, JobState, Role};
use kinoflow_engine::ANNOUNCEMENT_TIMEOUT;
use maud::{html, Markup};
use serde_json::json;

use crate::auth::session;
use crate::error::ApiError;
use crate::routes::deliveries::redeliver_one;
use crate::state::AppState;

use super::browser::SignedInAdmin;
use super::form::SignedInForm;
use super::page;
use super::snapshot::{self, Snapshot};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The most ended jobs the day's charts count.
const MAX_ENDED: i64 = 100_000;
const RECENT_DELIVERIES: i64 = 20;
const RUNNING_SHOWN: i64 = 50;

pub async fn page(
    State(state): State<AppState>,
    SignedInAdmin(signed_in): SignedInAdmin,
) -> Response {
    match board(&state, &signed_in.csrf).await {
        Ok(board) => page::ok(
            "Operations",
            Some(&signed_in),
            html! { div #board data-live="/operations/live" aria-live="off" { (board) } },
        ),
        Err(e) => page::api_error(&e),
    }
}

/// The board again every two seconds, while it changes.
pub async fn live(
    State(state): State<AppState>,
    SignedInAdmin(signed_in): SignedInAdmin,
) -> Response {
    let (csrf, session_id) = (signed_in.csrf.clone(), signed_in.session_id.clone());
    snapshot::stream(state, Duration::from_secs(2), move |state| {
        let (csrf, session_id) = (csrf.clone(), session_id.clone());
        async move {
            // The stream ends with the session, or once its user is no longer an admin.
            let still_admin = session::session_user(&state, &session_id)
                .await
                .ok()?
                .is_some_and(|user| user.role == Role::Admin);
            if !still_admin {
                return Some(Snapshot::Last(json!({})));
            }
            match board(&state, &csrf).await {
                Ok(board) => Some(Snapshot::Now(json!({"html": board.into_string()}))),
                Err(e) => {
                    tracing::warn!(error = %e.describe(), "the operations board could not be read");
                    None
                }
            }
        }
    })
    .into_response()
}

async fn board(state: &AppState, csrf: &str) -> Result<Markup, ApiError> {
    let now = now_ms();
    let queue = state.engine.queue_stats().await?;
    let ended = state
        .store
        .ended_jobs_since(now - DAY_MS, MAX_ENDED)
        .await?;
    let workers = state
        .engine
        .workers(now - ANNOUNCEMENT_TIMEOUT.as_millis() as i64)
        .await?;
    let running = state
        .engine
        .jobs(&JobFilter {
            state: Some(JobState::Running),
            limit: RUNNING_SHOWN,
            ..JobFilter::default()
        })
        .await?;
    let deliveries = state.store.recent_deliveries(RECENT_DELIVERIES).await?;
    let last_hour: Vec<&EndedJob> = ended
        .iter()
        .filter(|j| j.finished_at >= now - HOUR_MS)
        .collect();
    Ok(html! {
        p.help { "Updated " (page::time(now)) }
        div.grid {
            section.card aria-labelledby="queue-heading" {
                h2 #queue-heading { "Queue" }
                @if queue.is_empty() {
                    p #queue-empty { "Nothing waiting or running." }
                } @else {
                    table #queue {
                        thead { tr { th scope="col" { "Pipeline" } th scope="col" { "State" } th scope="col" { "Jobs" } th scope="col" { "Oldest" } } }
                        tbody {
                            @for stat in &queue {
                                tr { td { (stat.pipeline) } td { (stat.state.as_str()) } td.number { (stat.count) }
                                     td.number { (age(now - stat.oldest_created_at)) } }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="hour-heading" {
                h2 #hour-heading { "Last hour" }
                (outcome_line(&last_hour))
                (bars(&buckets(&last_hour, now, 12, HOUR_MS / 12), "5-minute"))
            }
            section.card aria-labelledby="day-heading" {
                h2 #day-heading { "Last day" }
                (outcome_line(&ended.iter().collect::<Vec<_>>()))
                (bars(&buckets(&ended.iter().collect::<Vec<_>>(), now, 24, HOUR_MS), "hourly"))
            }
        }
        section.card aria-labelledby="runtime-heading" {
            h2 #runtime-heading { "Run time of jobs that succeeded in the last day" }
            (percentiles(&ended))
        }
        section.card aria-labelledby="workers-heading" {
            h2 #workers-heading { "Nodes" }
            table #workers {
                thead { tr { th scope="col" { "Host" } th scope="col" { "Process" } th scope="col" { "Concurrency" }
                             th scope="col" { "Running" }
                             th scope="col" { "Pipelines" } th scope="col" { "Last heartbeat" } th scope="col" { "Up since" } } }
                tbody {
                    @for worker in &workers {
                        @let busy = running.iter().filter(|job| job.worker_id.as_deref() == Some(worker.id.as_str())).count();
                        tr { td { (worker.host) } td.number { (worker.pid) } td.number { (worker.concurrency) }
                             td.number { (busy) }
                             td { (worker.pipelines.join(", ")) } td { (age(now - worker.last_seen_at)) " ago" }
                             td { (page::time(worker.started_at)) } }
                    }
                }
            }
            h3 { "Running jobs" }
            @if running.is_empty() { p { "None." } } @else {
                table #running {
                    thead { tr { th scope="col" { "Job" } th scope="col" { "Pipeline" } th scope="col" { "Node" }
                                 th scope="col" { "Progress" } th scope="col" { "Started" } } }
                    tbody {
                        @for job in &running {
                            tr { td { code { (job.id) } } td { (job.pipeline) }
                                 td { (job.worker_id.as_deref().unwrap_or("—")) }
                                 td.number { (format!("{:.0}%", job.progress * 100.0)) }
                                 td { (job.started_at.map(page::time).unwrap_or_default()) } }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="deliveries-heading" {
            h2 #deliveries-heading { "Latest deliveries" }
            @if deliveries.is_empty() { p { "None yet." } } @else {
                table #deliveries {
                    thead { tr { th scope="col" { "Made" } th scope="col" { "Channel" } th scope="col" { "To" } th scope="col" { "Event" }
                                 th scope="col" { "State" } th scope="col" { "Attempts" } th { span.sr { "Action" } } } }
                    tbody {
                        @for delivery in &deliveries {
                            tr {
                                td { (page::time(delivery.created_at)) } td { (delivery.channel.as_str()) }
                                td { (shown_target(&delivery.target)) } td { (delivery.event) }
                                td { (delivery.state.as_str()) } td.number { (delivery.attempts) }
                                td {
                                    @if delivery.state.as_str() != "pending" {
                                        form.inline method="post" action={"/operations/deliveries/" (delivery.job_id) "/" (delivery.id) "/redeliver"} {
                                            (page::csrf_field(csrf))
                                            button.small type="submit" { "Redeliver" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// A delivery's target without what could be a secret: a URL's query and
/// credentials are left out.
fn shown_target(target: &str) -> String {
    match url::Url::parse(target) {
        Ok(url) if url.has_host() => format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or_default(),
            url.path()
        ),
        _ => target.to_owned(),
    }
}

/// `12 s`, `5 min`, `3 h`.
fn age(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    match seconds {
        0..=119 => format!("{seconds} s"),
        120..=7199 => format!("{} min", seconds / 60),
        _ => format!("{} h", seconds / 3600),
    }
}

/// How many ended, and the share that failed.
fn outcome_line(jobs: &[&EndedJob]) -> Markup {
    let count = |state: JobState| jobs.iter().filter(|j| j.state == state).count();
    let failed = count(JobState::Failed);
    let rate = if jobs.is_empty() {
        0.0
    } else {
        failed as f64 * 100.0 / jobs.len() as f64
    };
    html! {
        p.outcomes {
            span.ok { (count(JobState::Succeeded)) " succeeded" } " · "
            span.bad { (failed) " failed" } " · "
            (count(JobState::Cancelled)) " cancelled · failure rate "
            strong { (format!("{rate:.1}%")) }
        }
    }
}

/// Ended jobs counted in `count` buckets of `width` ms ending now: (succeeded, failed, cancelled).
fn buckets(jobs: &[&EndedJob], now: i64, count: usize, width: i64) -> Vec<[usize; 3]> {
    let mut buckets = vec![[0usize; 3]; count];
    let start = now - width * count as i64;
    for job in jobs {
        let offset = job.finished_at - start;
        if offset < 0 {
            continue;
        }
        let index = ((offset / width) as usize).min(count - 1);
        match job.state {
            JobState::Succeeded => buckets[index][0] += 1,
            JobState::Failed => buckets[index][1] += 1,
            JobState::Cancelled => buckets[index][2] += 1,
            _ => {}
        }
    }
    buckets
}

/// Stacked bars of the buckets, oldest on the left.
fn bars(buckets: &[[usize; 3]], unit: &str) -> Markup {
    const WIDTH: f64 = 300.0;
    const HEIGHT: f64 = 80.0;
    let highest = buckets
        .iter()
        .map(|b| b.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = WIDTH / buckets.len().max(1) as f64;
    let total: usize = buckets.iter().flatten().sum();
    let mut rects = Vec::new();
    for (index, bucket) in buckets.iter().enumerate() {
        let mut top = HEIGHT;
        for (class, count) in ["ok", "bad", "cancelled"].into_iter().zip(bucket) {
            let height = *count as f64 / highest * (HEIGHT - 4.0);
            if *count > 0 {
                rects.push((class, index as f64 * slot + 1.0, top - height, height));
            }
            top -= height;
        }
    }
    html! {
        svg.chart viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img"
            aria-label={"Jobs ended per " (unit) " interval: " (total) " in all"} {
            @for (class, x, y, height) in rects {
                rect class=(class) x=(format!("{x:.1}")) y=(format!("{y:.1}"))
                    width=(format!("{:.1}", slot - 2.0)) height=(format!("{height:.1}")) {}
            }
        }
    }
}

/// p50, p90 and p99 of the run time of each pipeline's succeeded jobs.
fn percentiles(ended: &[EndedJob]) -> Markup {
    let mut by_pipeline: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for job in ended.iter().filter(|j| j.state == JobState::Succeeded) {
        if let Some(started) = job.started_at {
            by_pipeline
                .entry(&job.pipeline)
                .or_default()
                .push(job.finished_at - started);
        }
    }
    for times in by_pipeline.values_mut() {
        times.sort_unstable();
    }
    html! {
        @if by_pipeline.is_empty() { p { "No job succeeded in the last day." } } @else {
            table #runtimes {
                thead { tr { th scope="col" { "Pipeline" } th scope="col" { "Jobs" } th scope="col" { "p50" }
                             th scope="col" { "p90" } th scope="col" { "p99" } } }
                tbody {
                    @for (pipeline, times) in &by_pipeline {
                        tr { td { (pipeline) } td.number { (times.len()) }
                             @for q in [0.5, 0.9, 0.99] { td.number { (seconds(percentile(times, q))) } } }
                    }
                }
            }
        }
    }
}

/// The `q` quantile of sorted `values` (nearest rank).
fn percentile(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn seconds(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

pub async fn redeliver(
    State(state): State<AppState>,
    Path((job_id, delivery_id)): Path<(String, String)>,
    SignedInForm { signed_in, .. }: SignedInForm,
) -> Response {
    if !signed_in.user.is_admin() {
        return page::error_page(StatusCode::FORBIDDEN, "Redelivering is for administrators.");
    }
    match redeliver_one(&state, &signed_in.user, &job_id, &delivery_id).await {
        Ok(()) => Redirect::to("/operations").into_response(),
        Err(e) => page::api_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.5), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&[7], 0.9), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn a_target_shows_no_query_or_credentials() {
        assert_eq!(
            shown_target("https://u:p@hooks.example/x?token=s"),
            "https://hooks.example/x"
        );
        assert_eq!(shown_target("someone@example.com"), "someone@example.com");
    }
}
