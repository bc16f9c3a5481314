//! A job's history and live progress as Server-Sent Events. Events are rows in
//! the store, so a stream can start (or resume with `Last-Event-ID`) at any
//! time and on any node, and ends with an `end` event once the job has ended.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use kinoflow_engine::store::{JobEvent, JobState};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::shared::visible_job;
use crate::state::AppState;
use crate::views::JobView;

/// How often a stream looks for new events.
const POLL: Duration = Duration::from_millis(200);
const BATCH: i64 = 200;

/// The job's events: `state` and `progress` events, then one `end` event with
/// the final job. Each event's `id` can be sent back as `Last-Event-ID`.
#[utoipa::path(get, path = "/v1/jobs/{id}/events", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id"),
           ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event")),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
              (status = 404, body = ErrorBody)))]
pub async fn job_events(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let job = visible_job(&state, &user, &id).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let stream = EventStream {
        state,
        job_id: job.id,
        after,
        pending: VecDeque::new(),
        ended: false,
    };
    Ok(Sse::new(futures::stream::unfold(stream, EventStream::next))
        .keep_alive(KeepAlive::default()))
}

struct EventStream {
    state: AppState,
    job_id: String,
    after: i64,
    pending: VecDeque<Event>,
    ended: bool,
}

impl EventStream {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            if self.ended || self.state.shutdown.is_cancelled() {
                return None;
            }
            match self
                .state
                .engine
                .events_after(&self.job_id, self.after, BATCH)
                .await
            {
                Ok(events) if !events.is_empty() => self.queue(events).await,
                Ok(_) => self.wait().await,
                Err(e) => {
                    tracing::warn!(job_id = %self.job_id, error = %e, "event stream could not read events");
                    self.wait().await;
                }
            }
        }
    }

    async fn wait(&self) {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = self.state.shutdown.cancelled() => {}
        }
    }

    async fn queue(&mut self, events: Vec<JobEvent>) {
        for event in events {
            self.after = event.id;
            let terminal = event.kind == "state"
                && event.data["state"]
                    .as_str()
                    .and_then(JobState::parse)
                    .is_some_and(JobState::is_terminal);
            self.pending.push_back(
                Event::default()
                    .id(event.id.to_string())
                    .event(event.kind.as_str())
                    .data(event.data.to_string()),
            );
            if terminal {
                self.queue_end().await;
                return;
            }
        }
    }

    /// The closing event carries the job as it ended, artifacts included.
    async fn queue_end(&mut self) {
        let engine = &self.state.engine;
        let view = match engine.job(&self.job_id).await {
            Ok(Some(job)) => {
                let artifacts = engine.artifacts(&job.id).await.ok();
                serde_json::to_string(&JobView::new(job, artifacts)).ok()
            }
            _ => None,
        };
        self.pending.push_back(
            Event::default()
                .event("end")
                .data(view.unwrap_or_else(|| "{}".to_owned())),
        );
        self.ended = true;
    }
}
