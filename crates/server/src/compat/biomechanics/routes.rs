//! The biomechanics server's routes: each reads the request in the
//! original's terms, calls the engine and answers in the original's terms.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Json;
use kinoflow_engine::store::{JobRecord, JobState};
use kinoflow_engine::Submission;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::vocabulary::{joint_param, result_name, status_word, DEFAULT_JOINT, ZIP_NAME};
use super::{BiomechanicsError, PIPELINE};
use crate::auth::{AuthUser, MaybeAnonymous};
use crate::compat::error::DetailBody;
use crate::error::{code, ApiError, ErrorBody};
use crate::notices::owner_notices;
use crate::routes::artifacts::{serve_archive, serve_artifact};
use crate::shared::{pipeline_job, FileForm};
use crate::state::AppState;

/// The multipart form of `POST /processar`.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct ProcessForm {
    /// The video.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The joint to chart: `Joelho` (the default), `Quadril`, `Tornozelo`,
    /// `Cotovelo`, `Ombro`, `Tronco`, `todas`, or kinoflow's English names.
    joint_selection: Option<String>,
}

/// A message, and the job it is about when one was started.
#[derive(Serialize, ToSchema)]
pub struct Message {
    message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_id: Option<String>,
}

/// An analysis as `GET /status/{job_id}` describes it.
#[derive(Serialize, ToSchema)]
pub struct AnalysisStatus {
    /// `processando`, `concluido`, `erro` or `cancelado`.
    status: &'static str,
    /// Percent done, 0 to 100.
    progress: i64,
    /// Why the analysis failed (`erro` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The archive of every result (`concluido` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    zip_file: Option<&'static str>,
    /// The results' names (`concluido`), else null.
    resultados: Option<Vec<String>>,
}

/// Starts the analysis of a video (multipart `file` and `joint_selection`).
#[utoipa::path(post, path = "/processar", tag = "biomechanics", operation_id = "biomechanics_process",
    security((), ("bearer" = [])),
    request_body(content = ProcessForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Message), (status = 400, body = DetailBody),
              (status = 401, body = ErrorBody), (status = 413, body = DetailBody),
              (status = 422, body = DetailBody)))]
pub async fn process(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    request: Request,
) -> Result<Json<Message>, BiomechanicsError> {
    let mut form = FileForm::from_request(&state, &user, request, &["joint_selection"]).await?;
    let started = start_analysis(&state, &user, &mut form).await;
    form.keep_if(&state, started.is_ok()).await;
    Ok(Json(Message {
        message: "Iniciado",
        job_id: Some(started?.id),
    }))
}

/// Queues the `biomech` job of an uploaded video.
async fn start_analysis(
    state: &AppState,
    user: &AuthUser,
    form: &mut FileForm,
) -> Result<JobRecord, ApiError> {
    let selection = form
        .take_text("joint_selection")
        .filter(|joint| !joint.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_JOINT.to_owned());
    let upload_id = form.required_upload()?.id.clone();
    let (job, _) = state
        .engine
        .submit(Submission {
            owner_id: user.id.clone(),
            pipeline: PIPELINE.to_owned(),
            upload_id: Some(upload_id),
            params: json!({ "joint": joint_param(&selection) }),
            idempotency_key: None,
            notices: owner_notices(state, user),
        })
        .await?;
    Ok(job)
}

/// An analysis's state: `processando` with a percentage, then `concluido`
/// with the results' names, `erro` with the reason, or `cancelado`.
#[utoipa::path(get, path = "/status/{job_id}", tag = "biomechanics", operation_id = "biomechanics_status",
    security((), ("bearer" = [])),
    params(("job_id" = String, Path, description = "The job_id POST /processar answered")),
    responses((status = 200, body = AnalysisStatus), (status = 404, body = DetailBody)))]
pub async fn status(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Json<AnalysisStatus>, BiomechanicsError> {
    let job = pipeline_job(&state, &user, &id, PIPELINE, "job").await?;
    let mut answer = AnalysisStatus {
        status: status_word(job.state),
        progress: (job.progress * 100.0).round() as i64,
        message: None,
        zip_file: None,
        resultados: None,
    };
    match job.state {
        JobState::Succeeded => {
            let artifacts = state
                .engine
                .artifacts(&job.id)
                .await
                .map_err(ApiError::from)?;
            answer.progress = 100;
            answer.zip_file = Some(ZIP_NAME);
            answer.resultados = Some(artifacts.iter().map(|a| result_name(&a.name)).collect());
        }
        JobState::Failed => {
            answer.message = Some(
                job.error
                    .unwrap_or_else(|| "the analysis failed".to_owned()),
            );
        }
        JobState::Cancelled | JobState::Queued | JobState::Running | JobState::Retrying => {}
    }
    Ok(Json(answer))
}

/// Cancels an analysis that has not ended.
#[utoipa::path(post, path = "/cancelar/{job_id}", tag = "biomechanics", operation_id = "biomechanics_cancel",
    security((), ("bearer" = [])),
    params(("job_id" = String, Path, description = "The job_id POST /processar answered")),
    responses((status = 200, body = Message), (status = 404, body = DetailBody),
              (status = 409, body = DetailBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Json<Message>, BiomechanicsError> {
    let job = pipeline_job(&state, &user, &id, PIPELINE, "job").await?;
    if job.state.is_terminal() {
        return Err(ApiError::conflict(format!(
            "the analysis has already ended ({})",
            job.state.as_str()
        ))
        .into());
    }
    state.engine.cancel(&job.id).await.map_err(ApiError::from)?;
    Ok(Json(Message {
        message: "Sinal de cancelamento enviado.",
        job_id: None,
    }))
}

/// Every result of a finished analysis, in `analise_final.zip`.
#[utoipa::path(get, path = "/download-zip/{job_id}", tag = "biomechanics", operation_id = "biomechanics_download_zip",
    security((), ("bearer" = [])),
    params(("job_id" = String, Path, description = "The job_id POST /processar answered")),
    responses((status = 200, description = "analise_final.zip", content_type = "application/zip", body = Vec<u8>),
              (status = 404, body = DetailBody), (status = 409, body = DetailBody)))]
pub async fn download_zip(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Response, BiomechanicsError> {
    let job = finished_job(&state, &user, &id).await?;
    Ok(serve_archive(&state, &job.id, ZIP_NAME, result_name).await?)
}

/// One result of a finished analysis, by the name `GET /status` listed;
/// honours a single `Range: bytes=…`.
#[utoipa::path(get, path = "/resultados/{job_id}/{name}", tag = "biomechanics", operation_id = "biomechanics_result",
    security((), ("bearer" = [])),
    params(("job_id" = String, Path, description = "The job_id POST /processar answered"),
           ("name" = String, Path, description = "A name GET /status listed"),
           ("Range" = Option<String>, Header, description = "bytes=START-END")),
    responses((status = 200, description = "The result", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 206, description = "Part of the result", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 404, body = DetailBody), (status = 409, body = DetailBody),
              (status = 416, body = DetailBody)))]
pub async fn result_file(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, BiomechanicsError> {
    let job = finished_job(&state, &user, &id).await?;
    let artifacts = state
        .engine
        .artifacts(&job.id)
        .await
        .map_err(ApiError::from)?;
    let artifact = artifacts
        .iter()
        .find(|a| result_name(&a.name) == name)
        .ok_or_else(|| ApiError::not_found(&format!("result {name:?}")))?;
    Ok(serve_artifact(&state, artifact, headers.get(header::RANGE)).await?)
}

/// The caller's analysis once its results are ready; 409 while it runs or
/// when it did not succeed.
async fn finished_job(state: &AppState, user: &AuthUser, id: &str) -> Result<JobRecord, ApiError> {
    let job = pipeline_job(state, user, id, PIPELINE, "job").await?;
    if job.state != JobState::Succeeded {
        return Err(ApiError::new(
            code::NOT_READY,
            format!("the analysis has no results ({})", job.state.as_str()),
        ));
    }
    Ok(job)
}
