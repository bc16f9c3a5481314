//! One job: its state and live progress, parameters, timeline of events and
//! attempts with each error, its results, and what can be done with it
//! (cancel, retry, delete, share a link).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kinoflow_engine::store::{JobEvent, JobRecord, JobState};
use maud::{html, Markup};

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::routes::jobs::{cancel, delete, submit_job, CreateJob};
use crate::routes::links::{make_link, ARCHIVE};
use crate::shared::visible_job;
use crate::state::AppState;

use super::browser::SignedIn;
use super::form::{Fields, SignedInForm};
use super::page;
use super::results;

/// Events are read in pages of this many.
const EVENT_PAGE: i64 = 2000;
/// The most pages read for the timeline (a job reporting progress twice a
/// second for days has more).
const EVENT_PAGES: usize = 100;

/// What can be done to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Cancel,
    Retry,
    Delete,
}

impl Action {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "cancel" => Some(Self::Cancel),
            "retry" => Some(Self::Retry),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Retry => "retry",
            Self::Delete => "delete",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Cancel => "Cancel",
            Self::Retry => "Retry",
            Self::Delete => "Delete",
        }
    }

    /// The actions a job in `state` takes.
    pub fn offered(state: JobState) -> &'static [Action] {
        match state {
            JobState::Queued | JobState::Running | JobState::Retrying => &[Action::Cancel],
            JobState::Failed | JobState::Cancelled => &[Action::Retry, Action::Delete],
            JobState::Succeeded => &[Action::Delete],
        }
    }
}

/// Does `action` to the job; a retry answers the new job's id.
async fn apply(
    state: &AppState,
    user: &AuthUser,
    job: &JobRecord,
    action: Action,
) -> Result<Option<String>, ApiError> {
    match action {
        Action::Cancel => cancel(state, job).await.map(|_| None),
        Action::Delete => delete(state, job).await.map(|_| None),
        Action::Retry => {
            if !matches!(job.state, JobState::Failed | JobState::Cancelled) {
                return Err(ApiError::conflict(
                    "only a failed or cancelled job is retried",
                ));
            }
            let again = CreateJob {
                pipeline: job.pipeline.clone(),
                upload_id: job.upload_id.clone(),
                params: Some(job.params.clone()),
                callback_url: job.notices.callback_url.clone(),
                notify_email: job.notices.email.clone(),
            };
            Ok(Some(submit_job(state, user, again, None).await?.id))
        }
    }
}

/// Does `action` to each of `ids` the user may see; says how many it did
/// and why the others were refused.
pub async fn apply_to_many(
    state: &AppState,
    user: &AuthUser,
    action: Action,
    ids: &[String],
) -> String {
    let mut done = 0;
    let mut refusals = Vec::new();
    for id in ids {
        let outcome = match visible_job(state, user, id).await {
            Ok(job) => apply(state, user, &job, action).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(_) => done += 1,
            Err(e) => refusals.push(e.message().to_owned()),
        }
    }
    let mut text = format!("{}: {done} of {} jobs.", action.label(), ids.len());
    refusals.sort();
    refusals.dedup();
    if !refusals.is_empty() {
        text.push_str(&format!(" Refused: {}.", refusals.join("; ")));
    }
    text
}

/// A job's progress as a bar with its percentage, which the page's script
/// keeps up to date.
pub fn progress_bar(job: &JobRecord) -> Markup {
    let percent = (job.progress * 100.0).round().clamp(0.0, 100.0) as u32;
    html! {
        span.progress {
            progress data-field="progress" max="100" value=(percent) aria-label="Progress" { (percent) "%" }
            span data-field="percent" { (percent) "%" }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Response {
    match job_page(&state, &signed_in, &id, None).await {
        Ok(response) => response,
        Err(e) => page::api_error(&e),
    }
}

async fn job_page(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    notice: Option<Markup>,
) -> Result<Response, ApiError> {
    let job = visible_job(state, &signed_in.user, id).await?;
    let (events, progress_reports) = timeline_events(state, &job.id).await?;
    let upload = match &job.upload_id {
        Some(upload_id) => state.engine.upload(upload_id).await?,
        None => None,
    };
    let results = if job.state == JobState::Succeeded {
        results::section(state, &job, &signed_in.csrf).await?
    } else {
        html! {}
    };
    let body = html! {
        @if let Some(notice) = notice { (notice) }
        section.card.summary #job data-job=(job.id) data-state=(job.state.as_str())
            data-events={"/v1/jobs/" (job.id) "/events"} aria-labelledby="summary-heading" {
            h2 #summary-heading.sr { "Summary" }
            dl {
                dt { "Pipeline" } dd { (job.pipeline) }
                dt { "State" } dd { span.state data-field="state" { (job.state.as_str()) } }
                dt { "Progress" } dd { (progress_bar(&job)) " " span.stage data-field="stage" { (job.stage.as_deref().unwrap_or("")) } }
                dt { "File" } dd { (upload.as_ref().map(|u| u.filename.as_str()).unwrap_or("—")) }
                dt { "Attempts" } dd { (job.attempts) " of " (job.max_attempts) }
                dt { "Made" } dd { (page::time(job.created_at)) }
                @if let Some(started) = job.started_at { dt { "Started" } dd { (page::time(started)) } }
                @if let Some(finished) = job.finished_at { dt { "Ended" } dd { (page::time(finished)) } }
            }
            @if let Some(error) = &job.error {
                p.error role="alert" { (error) }
            }
            @for warning in &job.warnings {
                p.warning { (warning) }
            }
            div.actions {
                @for action in Action::offered(job.state) {
                    form.inline method="post" action={"/jobs/" (job.id) "/" (action.as_str())} {
                        (page::csrf_field(&signed_in.csrf))
                        button.danger[*action == Action::Delete] type="submit" { (action.label()) }
                    }
                }
            }
        }
        section.card aria-labelledby="params-heading" {
            h2 #params-heading { "Parameters" }
            pre tabindex="0" aria-label="Parameters" { (serde_json::to_string_pretty(&job.params).unwrap_or_default()) }
        }
        section #results data-src={"/jobs/" (job.id) "/results"} aria-live="polite" { (results) }
        (timeline(&events, progress_reports))
    };
    Ok(page::ok(
        &format!("Job …{}", &job.id[job.id.len().saturating_sub(8)..]),
        Some(signed_in),
        body,
    ))
}

/// The job's events other than progress reports, and how many progress
/// reports there were.
async fn timeline_events(
    state: &AppState,
    job_id: &str,
) -> Result<(Vec<JobEvent>, usize), ApiError> {
    let (mut kept, mut progress, mut after) = (Vec::new(), 0, 0);
    for _ in 0..EVENT_PAGES {
        let page = state.engine.events_after(job_id, after, EVENT_PAGE).await?;
        let full = page.len() as i64 == EVENT_PAGE;
        after = page.last().map_or(after, |event| event.id);
        for event in page {
            if event.kind == "progress" {
                progress += 1;
            } else {
                kept.push(event);
            }
        }
        if !full {
            break;
        }
    }
    Ok((kept, progress))
}

/// The job's history: every state change with its attempt and error.
fn timeline(events: &[JobEvent], progress_reports: usize) -> Markup {
    html! {
        section.card aria-labelledby="timeline-heading" {
            h2 #timeline-heading { "Timeline" }
            ol.timeline {
                @for event in events {
                    li {
                        time { (page::time(event.created_at)) }
                        " "
                        strong { (event.data["state"].as_str().unwrap_or(&event.kind)) }
                        @if let Some(attempts) = event.data["attempts"].as_i64() {
                            " (attempt " (attempts) ")"
                        }
                        @if let Some(error) = event.data["error"].as_str() {
                            p.error { (error) }
                        }
                    }
                }
            }
            p.help { (progress_reports) " progress reports." }
        }
    }
}

/// The results, for the page's script to put in place when the job ends.
pub async fn results_fragment(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let section = async {
        let job = visible_job(&state, &signed_in.user, &id).await?;
        results::section(&state, &job, &signed_in.csrf).await
    };
    match section.await {
        Ok(markup) => markup.into_response(),
        Err(e) => page::api_error(&e),
    }
}

/// `POST /jobs/{id}/{cancel|retry|delete|share}`.
pub async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    SignedInForm { signed_in, fields }: SignedInForm,
) -> Response {
    let outcome = match action.as_str() {
        "share" => share(&state, &signed_in, &id, &fields).await,
        other => match Action::parse(other) {
            Some(action) => act_on(&state, &signed_in, &id, action).await,
            None => Err(ApiError::not_found("action")),
        },
    };
    outcome.unwrap_or_else(|e| page::api_error(&e))
}

async fn act_on(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    action: Action,
) -> Result<Response, ApiError> {
    let job = visible_job(state, &signed_in.user, id).await?;
    let next = match apply(state, &signed_in.user, &job, action).await? {
        Some(new_job) => format!("/jobs/{new_job}"),
        None if action == Action::Delete => "/jobs".to_owned(),
        None => format!("/jobs/{id}"),
    };
    Ok(Redirect::to(&next).into_response())
}

async fn share(
    state: &AppState,
    signed_in: &SignedIn,
    id: &str,
    fields: &Fields,
) -> Result<Response, ApiError> {
    let ttl = fields
        .get("expires_in_s")
        .and_then(|text| text.parse::<u64>().ok());
    let link = make_link(state, &signed_in.user, id, ARCHIVE, ttl).await?;
    let notice = html! {
        div.notice role="status" {
            p { "A link to the ZIP of the results, working until " (link.expires_at) ":" }
            input.key readonly aria-label="Share link" value=(link.url);
        }
    };
    let mut response = job_page(state, signed_in, id, Some(notice)).await?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}
