//! Jobs: submit, list, inspect, cancel, delete.

use axum::body::Body;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::Limited;
use kinoflow_engine::store::{JobFilter, JobRecord, JobState, UploadRecord};
use kinoflow_engine::Submission;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::notices::NoticeChecks;
use crate::shared::{visible_job, FileForm};
use crate::state::AppState;
use crate::views::JobView;
use crate::SMALL_BODY_LIMIT;

const MAX_PAGE: i64 = 200;
/// The most jobs one batch submission may hold.
const MAX_BATCH: usize = 1000;
const IDEMPOTENCY_KEY_MAX_LEN: usize = 255;

/// A job to run on an earlier upload.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    /// One of the names `GET /v1/pipelines` lists.
    pub pipeline: String,
    /// The input file, for pipelines that take one.
    pub upload_id: Option<String>,
    /// The pipeline's parameters (see its schema).
    #[schema(value_type = Option<Object>)]
    pub params: Option<Value>,
    /// Called with the job's terminal event (`job.succeeded`, `job.failed`,
    /// `job.cancelled`), signed with your callback secret.
    pub callback_url: Option<String>,
    /// Mailed when the job succeeds (with a download link) or fails.
    pub notify_email: Option<String>,
}

/// Several jobs submitted together.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJobs {
    /// 1 to 1000 jobs.
    pub jobs: Vec<CreateJob>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedJobs {
    /// The queued jobs, in the order they were given.
    pub jobs: Vec<JobView>,
}

/// A job and its input file in one multipart request.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct CreateJobForm {
    pipeline: String,
    /// The parameters as a JSON object, in text.
    params: Option<String>,
    callback_url: Option<String>,
    notify_email: Option<String>,
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListJobsQuery {
    /// Only jobs in this state.
    pub state: Option<String>,
    /// Only jobs of this pipeline.
    pub pipeline: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Submits a job. Send JSON `{pipeline, upload_id, params}`, or a multipart
/// form with `pipeline`, `params` (JSON text) and one `file`. An
/// `Idempotency-Key` header makes a retried submission return the first job
/// instead of a new one; the key sent again with a different submission is
/// refused (422).
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries of this submission safe")),
    request_body(content(
        (CreateJob = "application/json"),
        (CreateJobForm = "multipart/form-data"))),
    responses((status = 202, body = JobView, description = "Queued; Location names the job"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_job(
    State(state): State<AppState>,
    user: AuthUser,
    request: Request,
) -> Result<Response, ApiError> {
    let idempotency_key = idempotency_key(request.headers())?;
    let job = if is_multipart(request.headers()) {
        let mut form = FileForm::from_request(&state, &user, request, &JOB_FORM_FIELDS).await?;
        let submitted = submit_form_job(&state, &user, &mut form, idempotency_key).await;
        let used = matches!(&submitted, Ok(job) if form.is_input_of(job));
        form.keep_if(&state, used).await;
        submitted?
    } else {
        let request = request.map(|body| Body::new(Limited::new(body, SMALL_BODY_LIMIT)));
        let body = ApiJson::<CreateJob>::from_request(request, &()).await?.0;
        submit_job(&state, &user, body, idempotency_key).await?
    };
    let location = format!("/v1/jobs/{}", job.id);
    let mut response = (StatusCode::ACCEPTED, Json(JobView::new(job, None))).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Queues one job; with an idempotency key used before, answers that job.
pub async fn submit_job(
    state: &AppState,
    user: &AuthUser,
    body: CreateJob,
    idempotency_key: Option<String>,
) -> Result<JobRecord, ApiError> {
    let mut notices = NoticeChecks::new(state, user);
    let submission = submission(&mut notices, user, body, idempotency_key).await?;
    let (job, _created) = state.engine.submit(submission).await?;
    Ok(job)
}

/// Submits up to 1000 jobs in one request and one transaction: all of them
/// are queued, or none when one is refused (the error names it as `jobs[i]`).
/// For many small jobs this is much cheaper than one request each.
#[utoipa::path(post, path = "/v1/jobs/batch", tag = "jobs", security(("bearer" = [])),
    request_body = CreateJobs,
    responses((status = 202, body = CreatedJobs, description = "All queued"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_jobs(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<CreateJobs>,
) -> Result<(StatusCode, Json<CreatedJobs>), ApiError> {
    if body.jobs.is_empty() || body.jobs.len() > MAX_BATCH {
        return Err(ApiError::unprocessable(format!(
            "jobs must hold 1 to {MAX_BATCH} jobs, not {}",
            body.jobs.len()
        )));
    }
    let mut notices = NoticeChecks::new(&state, &user);
    let mut submissions = Vec::with_capacity(body.jobs.len());
    for (index, job) in body.jobs.into_iter().enumerate() {
        let submission = submission(&mut notices, &user, job, None)
            .await
            .map_err(|e| e.prefixed(&format!("jobs[{index}]")))?;
        submissions.push(submission);
    }
    let jobs = state.engine.submit_many(submissions).await?;
    let jobs = jobs
        .into_iter()
        .map(|job| JobView::new(job, None))
        .collect();
    Ok((StatusCode::ACCEPTED, Json(CreatedJobs { jobs })))
}

/// The submission a request asks for, its notices checked.
async fn submission(
    notices: &mut NoticeChecks<'_>,
    user: &AuthUser,
    job: CreateJob,
    idempotency_key: Option<String>,
) -> Result<Submission, ApiError> {
    Ok(Submission {
        owner_id: user.id.clone(),
        pipeline: job.pipeline,
        upload_id: job.upload_id,
        params: job.params.unwrap_or(Value::Null),
        idempotency_key,
        notices: notices.check(job.callback_url, job.notify_email).await?,
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= IDEMPOTENCY_KEY_MAX_LEN)
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters")
        })?;
    Ok(Some(key.to_owned()))
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// The form fields of a multipart job submission besides `file`.
const JOB_FORM_FIELDS: [&str; 4] = ["pipeline", "params", "callback_url", "notify_email"];

/// Queues the job a form describes, on the form's file. A replay (an
/// idempotency key used before) whose file is the earlier submission's file
/// names the earlier upload, so that the copy stored again can go.
async fn submit_form_job(
    state: &AppState,
    user: &AuthUser,
    form: &mut FileForm,
    idempotency_key: Option<String>,
) -> Result<JobRecord, ApiError> {
    let mut job = job_from_form(form)?;
    if let (Some(key), Some(upload)) = (&idempotency_key, form.upload()) {
        if let Some(earlier) = earlier_upload_of_replay(state, user, key, upload).await? {
            job.upload_id = Some(earlier);
        }
    }
    submit_job(state, user, job, idempotency_key).await
}

fn job_from_form(form: &mut FileForm) -> Result<CreateJob, ApiError> {
    let pipeline = form
        .take_text("pipeline")
        .map(|pipeline| pipeline.trim().to_owned())
        .ok_or_else(|| ApiError::unprocessable("the form has no field named pipeline"))?;
    let params = match form.take_text("params") {
        Some(text) if !text.trim().is_empty() => serde_json::from_str(&text)
            .map_err(|e| ApiError::bad_request(format!("params is not valid JSON: {e}")))?,
        _ => Value::Null,
    };
    Ok(CreateJob {
        pipeline,
        upload_id: form.upload().map(|upload| upload.id.clone()),
        params: Some(params),
        callback_url: form.take_text("callback_url"),
        notify_email: form.take_text("notify_email"),
    })
}

/// The upload of the job first submitted with `key`, when it holds the
/// same bytes as `upload`.
async fn earlier_upload_of_replay(
    state: &AppState,
    user: &AuthUser,
    key: &str,
    upload: &UploadRecord,
) -> Result<Option<String>, ApiError> {
    let Some(earlier_id) = state
        .engine
        .job_by_idempotency_key(&user.id, key)
        .await?
        .and_then(|job| job.upload_id)
    else {
        return Ok(None);
    };
    let earlier = state.engine.upload(&earlier_id).await?;
    Ok(earlier
        .filter(|earlier| earlier.sha256 == upload.sha256 && earlier.size == upload.size)
        .map(|earlier| earlier.id))
}

/// The caller's jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", security(("bearer" = [])),
    params(ListJobsQuery),
    responses((status = 200, body = JobList), (status = 400, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<ListJobsQuery>,
) -> Result<Json<JobList>, ApiError> {
    let job_state = query
        .state
        .as_deref()
        .map(|s| {
            JobState::parse(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown state {s:?}; use queued, running, retrying, succeeded, failed or cancelled"
                ))
            })
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_PAGE}"
        )));
    }
    let jobs = state
        .engine
        .jobs(&JobFilter {
            owner_id: Some(user.id.clone()),
            state: job_state,
            pipeline: query.pipeline,
            before: query.cursor,
            limit: limit + 1,
            ..JobFilter::default()
        })
        .await?;
    let has_more = jobs.len() as i64 > limit;
    let page: Vec<JobRecord> = jobs.into_iter().take(limit as usize).collect();
    let next_cursor = has_more
        .then(|| page.last().map(|job| job.id.clone()))
        .flatten();
    Ok(Json(JobList {
        jobs: page
            .into_iter()
            .map(|job| JobView::new(job, None))
            .collect(),
        next_cursor,
    }))
}

/// One job with its artifacts.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = visible_job(&state, &user, &id).await?;
    let artifacts = state.engine.artifacts(&job.id).await?;
    Ok(Json(JobView::new(job, Some(artifacts))))
}

/// Cancels a job: a waiting one at once, a running one within a heartbeat.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 202, body = JobView, description = "Cancelled, or cancelling"),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let job = visible_job(&state, &user, &id).await?;
    let job = cancel(&state, &job).await?;
    Ok((StatusCode::ACCEPTED, Json(JobView::new(job, None))))
}

/// Cancels a job that has not ended (409 for one that has).
pub async fn cancel(state: &AppState, job: &JobRecord) -> Result<JobRecord, ApiError> {
    if job.state.is_terminal() {
        return Err(ApiError::conflict(format!(
            "the job has already ended ({})",
            job.state.as_str()
        )));
    }
    state
        .engine
        .cancel(&job.id)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))
}

/// Deletes a job that has ended (409 for one that has not).
pub async fn delete(state: &AppState, job: &JobRecord) -> Result<(), ApiError> {
    if !job.state.is_terminal() {
        return Err(ApiError::conflict(
            "the job has not ended; cancel it first, then delete it",
        ));
    }
    Ok(state.engine.delete(&job.id).await?)
}

/// Deletes an ended job, its artifacts and its history.
#[utoipa::path(delete, path = "/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn delete_job(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let job = visible_job(&state, &user, &id).await?;
    delete(&state, &job).await?;
    Ok(StatusCode::NO_CONTENT)
}
