//! The jobs list: filters (state, pipeline, dates) and search (file name,
//! parameters), live state and progress, and cancel / retry / delete on one
//! job, on the jobs ticked, or on every job the filter matches.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveTime};
use kinoflow_engine::store::{JobFilter, JobRecord, JobState};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::json;

use crate::state::AppState;

use super::browser::SignedIn;
use super::form::{Fields, SignedInForm};
use super::job::{self, Action};
use super::page;
use super::snapshot::{self, Snapshot};

const PAGE: i64 = 50;
/// The most jobs one "every job matching" action touches.
const MAX_MATCHING: i64 = 1000;
const STATES: [&str; 6] = [
    "queued",
    "running",
    "retrying",
    "succeeded",
    "failed",
    "cancelled",
];

/// The list's filter, as the query string and the bulk form carry it.
#[derive(Deserialize, Default, Clone)]
pub struct ListFilter {
    #[serde(default)]
    state: String,
    #[serde(default)]
    pipeline: String,
    /// A date, `YYYY-MM-DD`: jobs made on or after it.
    #[serde(default)]
    from: String,
    /// A date: jobs made on or before it.
    #[serde(default)]
    until: String,
    /// Text in the file name or the parameters.
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
    /// What the last bulk action did, to say so.
    #[serde(default)]
    done: String,
}

impl ListFilter {
    /// The store's filter for the user's jobs; an error names the bad field.
    fn job_filter(&self, owner_id: &str, limit: i64) -> Result<JobFilter, String> {
        let state = match self.state.as_str() {
            "" => None,
            text => Some(JobState::parse(text).ok_or_else(|| format!("unknown state {text:?}"))?),
        };
        Ok(JobFilter {
            owner_id: Some(owner_id.to_owned()),
            state,
            pipeline: non_empty(&self.pipeline),
            before: non_empty(&self.cursor),
            created_from: day_start(&self.from, 0)?,
            created_until: day_start(&self.until, 1)?,
            search: non_empty(self.q.trim()),
            limit,
        })
    }

    /// The filter as a query string (without the cursor and the message).
    fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                [
                    ("state", &self.state),
                    ("pipeline", &self.pipeline),
                    ("from", &self.from),
                    ("until", &self.until),
                    ("q", &self.q),
                ]
                .into_iter()
                .filter(|(_, value)| !value.is_empty()),
            )
            .finish()
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// The start of `date` plus `days` days, in ms since the epoch (UTC).
fn day_start(date: &str, days: u64) -> Result<Option<i64>, String> {
    if date.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| format!("{date:?} is not a date (YYYY-MM-DD)"))?;
    let day = day
        .checked_add_days(chrono::Days::new(days))
        .ok_or_else(|| format!("{date:?} is out of range"))?;
    Ok(Some(
        day.and_time(NaiveTime::MIN).and_utc().timestamp_millis(),
    ))
}

pub async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(filter): Query<ListFilter>,
) -> Response {
    let store_filter = match filter.job_filter(&signed_in.user.id, PAGE + 1) {
        Ok(store_filter) => store_filter,
        Err(message) => return page::error_page(StatusCode::BAD_REQUEST, &message),
    };
    let mut jobs = match state.engine.jobs(&store_filter).await {
        Ok(jobs) => jobs,
        Err(e) => return page::api_error(&e.into()),
    };
    let next = (jobs.len() as i64 > PAGE).then(|| {
        jobs.truncate(PAGE as usize);
        jobs.last().map(|job| job.id.clone())
    });
    let file_names = file_names(&state, &jobs).await;
    let pipelines = state.engine.pipelines.names();
    let body = html! {
        (filter_form(&filter, &pipelines))
        @if !filter.done.is_empty() {
            p.notice role="status" { (filter.done) }
        }
        form #bulk method="post" action="/jobs/bulk" {
            (page::csrf_field(&signed_in.csrf))
            @for (name, value) in url::form_urlencoded::parse(filter.query().as_bytes()) {
                input type="hidden" name={"filter." (name)} value=(value);
            }
            (bulk_controls())
            @if jobs.is_empty() {
                p { "No jobs match. " a href="/new" { "Start an analysis" } }
            } @else {
                div.scroll tabindex="0" role="region" aria-label="Jobs" {
                    table.jobs #jobs-table data-live="/jobs/live"
                        data-since=[jobs.iter().map(|job| job.created_at).max()] {
                        thead { tr {
                            th scope="col" { input #select-all type="checkbox" aria-label="Select every job on this page"; }
                            th scope="col" { "Job" } th scope="col" { "Pipeline" } th scope="col" { "File" }
                            th scope="col" { "State" } th scope="col" { "Progress" } th scope="col" { "Made" }
                            th scope="col" { "Actions" }
                        } }
                        tbody {
                            @for job in &jobs {
                                (row(job, file_names.get(job.upload_id.as_deref().unwrap_or_default())))
                            }
                        }
                    }
                }
            }
        }
        @if let Some(Some(cursor)) = next {
            p { a href={"/jobs?" (filter.query()) "&cursor=" (cursor)} { "Older jobs" } }
        }
    };
    page::ok("Jobs", Some(&signed_in), body)
}

fn filter_form(filter: &ListFilter, pipelines: &[String]) -> Markup {
    html! {
        form.filters method="get" action="/jobs" role="search" {
            div.field {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(filter.q) placeholder="file name or parameter";
            }
            div.field {
                label for="f-state" { "State" }
                select #f-state name="state" {
                    option value="" { "any" }
                    @for state in STATES { option value=(state) selected[filter.state == state] { (state) } }
                }
            }
            div.field {
                label for="f-pipeline" { "Pipeline" }
                select #f-pipeline name="pipeline" {
                    option value="" { "any" }
                    @for name in pipelines { option value=(name) selected[&filter.pipeline == name] { (name) } }
                }
            }
            div.field {
                label for="f-from" { "From" }
                input #f-from type="date" name="from" value=(filter.from);
            }
            div.field {
                label for="f-until" { "Until" }
                input #f-until type="date" name="until" value=(filter.until);
            }
            button type="submit" { "Filter" }
        }
    }
}

fn bulk_controls() -> Markup {
    html! {
        fieldset.bulk {
            legend { "Act on jobs" }
            div.field {
                label for="bulk-action" { "Action" }
                select #bulk-action name="action" {
                    option value="cancel" { "Cancel" }
                    option value="retry" { "Retry" }
                    option value="delete" { "Delete" }
                }
            }
            div.field {
                label for="bulk-scope" { "On" }
                select #bulk-scope name="scope" {
                    option value="selected" { "the jobs ticked" }
                    option value="matching" { "every job matching the filter" }
                }
            }
            button type="submit" name="bulk" value="1" { "Apply" }
        }
    }
}

fn row(job: &JobRecord, file_name: Option<&String>) -> Markup {
    let short = &job.id[job.id.len().saturating_sub(8)..];
    html! {
        tr data-job=(job.id) data-state=(job.state.as_str()) {
            td { input type="checkbox" name="id" value=(job.id) aria-label={"Select job " (short)}; }
            td { a href={"/jobs/" (job.id)} { "…" (short) } }
            td { (job.pipeline) }
            td { (file_name.map(String::as_str).unwrap_or("—")) }
            td { span.state data-field="state" { (job.state.as_str()) } }
            td { (job::progress_bar(job)) }
            td { (page::time(job.created_at)) }
            td.actions {
                @for action in Action::offered(job.state) {
                    button.small.danger[*action == Action::Delete] type="submit" name="one"
                        value={(action.as_str()) ":" (job.id)}
                        aria-label={(action.label()) " job " (short)} { (action.label()) }
                }
            }
        }
    }
}

/// The input file names of `jobs`, by upload id.
async fn file_names(state: &AppState, jobs: &[JobRecord]) -> HashMap<String, String> {
    let ids: Vec<String> = jobs
        .iter()
        .filter_map(|job| job.upload_id.clone())
        .collect();
    if ids.is_empty() {
        return HashMap::new();
    }
    match state.store.get_uploads(&ids).await {
        Ok(uploads) => uploads.into_iter().map(|u| (u.id, u.filename)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "the jobs page could not read file names");
            HashMap::new()
        }
    }
}

#[derive(Deserialize)]
pub struct LiveQuery {
    /// The jobs on the page that had not ended, comma-separated.
    #[serde(default)]
    ids: String,
    /// When the newest job on the page was made (ms): jobs made since are
    /// counted, so the page can offer to show them.
    since: Option<i64>,
}

/// The most new jobs counted.
const MAX_NEWER: i64 = 100;

/// The state and progress of the jobs on the page, live, and how many jobs
/// were made since the page was; without `since` it ends once every job on
/// the page has ended.
pub async fn live(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<LiveQuery>,
) -> Response {
    let ids: Vec<String> = query
        .ids
        .split(',')
        .filter(|id| !id.is_empty())
        .take(200)
        .map(str::to_owned)
        .collect();
    let owner = signed_in.user.id.clone();
    let since = query.since;
    snapshot::stream(state, Duration::from_secs(1), move |state| {
        let ids = ids.clone();
        let owner = owner.clone();
        async move {
            let mut jobs = Vec::with_capacity(ids.len());
            for id in &ids {
                match state.engine.job(id).await {
                    Ok(Some(job)) if job.owner_id == owner => jobs.push(job),
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
            let newer = match since {
                Some(since) => {
                    let filter = JobFilter {
                        owner_id: Some(owner.clone()),
                        created_from: Some(since + 1),
                        limit: MAX_NEWER,
                        ..JobFilter::default()
                    };
                    state.engine.jobs(&filter).await.ok()?.len()
                }
                None => 0,
            };
            let all_ended = jobs.iter().all(|job| job.state.is_terminal());
            let value = json!({"newer": newer, "jobs": jobs.iter().map(|job| json!({
                "id": job.id, "state": job.state.as_str(), "progress": job.progress,
                "stage": job.stage, "actions": Action::offered(job.state).iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()});
            Some(if all_ended && since.is_none() { Snapshot::Last(value) } else { Snapshot::Now(value) })
        }
    })
    .into_response()
}

/// One action on one job (`one`), the jobs ticked, or every job matching
/// the filter; back to the list saying what was done.
pub async fn bulk(
    State(state): State<AppState>,
    SignedInForm { signed_in, fields }: SignedInForm,
) -> Response {
    let filter = posted_filter(&fields);
    let (action, ids) = match fields.get("one").and_then(|one| one.split_once(':')) {
        Some((action, id)) => (action.to_owned(), vec![id.to_owned()]),
        None => {
            let action = fields.get("action").unwrap_or_default().to_owned();
            let ids = match fields.get("scope") {
                Some("matching") => match matching_ids(&state, &signed_in, &filter).await {
                    Ok(ids) => ids,
                    Err(response) => return response,
                },
                _ => fields.all("id").into_iter().map(str::to_owned).collect(),
            };
            (action, ids)
        }
    };
    let Some(action) = Action::parse(&action) else {
        return page::error_page(
            StatusCode::BAD_REQUEST,
            &format!("unknown action {action:?}"),
        );
    };
    let outcome = job::apply_to_many(&state, &signed_in.user, action, &ids).await;
    let mut back = filter;
    back.done = outcome;
    Redirect::to(&format!(
        "/jobs?{}&done={}",
        back.query(),
        urlencode(&back.done)
    ))
    .into_response()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The filter the bulk form carried (as `filter.<name>` fields).
fn posted_filter(fields: &Fields) -> ListFilter {
    let value = |name: &str| {
        fields
            .get(&format!("filter.{name}"))
            .unwrap_or_default()
            .to_owned()
    };
    ListFilter {
        state: value("state"),
        pipeline: value("pipeline"),
        from: value("from"),
        until: value("until"),
        q: value("q"),
        ..ListFilter::default()
    }
}

async fn matching_ids(
    state: &AppState,
    signed_in: &SignedIn,
    filter: &ListFilter,
) -> Result<Vec<String>, Response> {
    let store_filter = filter
        .job_filter(&signed_in.user.id, MAX_MATCHING)
        .map_err(|message| page::error_page(StatusCode::BAD_REQUEST, &message))?;
    let jobs = state
        .engine
        .jobs(&store_filter)
        .await
        .map_err(|e| page::api_error(&e.into()))?;
    Ok(jobs.into_iter().map(|job| job.id).collect())
}
