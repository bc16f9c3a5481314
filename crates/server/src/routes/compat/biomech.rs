//! The original biomechanics server's API, at its own paths and in its own
//! words, over kinoflow's `biomech` pipeline: its front end works unchanged.
//! Results are listed under the names it used (`grafico_joelho.png`,
//! `video_overlay.mp4`, `analise_final.zip`).

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use kinoflow_engine::store::{JobRecord, JobState};
use kinoflow_engine::Submission;
use serde_json::{json, Value};

use super::CompatError;
use crate::auth::{AuthUser, MaybeAnonymous};
use crate::error::ApiError;
use crate::notices::owner_notices;
use crate::routes::artifacts::{serve_archive, serve_artifact};
use crate::shared::{visible_job, FileForm};
use crate::state::AppState;

const PIPELINE: &str = "biomech";
const ZIP_NAME: &str = "analise_final.zip";
/// What the original front end sends when the user picks nothing.
const DEFAULT_JOINT: &str = "Joelho";

/// `POST /processar`: multipart `file` and `joint_selection`; starts a job.
pub async fn process(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    request: Request,
) -> Result<Json<Value>, CompatError> {
    let mut form = FileForm::from_request(&state, &user, request, &["joint_selection"]).await?;
    let started = start_analysis(&state, &user, &mut form).await;
    form.keep_if(&state, started.is_ok()).await;
    let job = started?;
    Ok(Json(json!({"message": "Iniciado", "job_id": job.id})))
}

/// Queues the `biomech` job of an uploaded video.
async fn start_analysis(
    state: &AppState,
    user: &AuthUser,
    form: &mut FileForm,
) -> Result<JobRecord, ApiError> {
    let joint = form
        .take_text("joint_selection")
        .map(|joint| joint.trim().to_owned())
        .filter(|joint| !joint.is_empty())
        .unwrap_or_else(|| DEFAULT_JOINT.to_owned());
    let upload_id = form.required_upload()?.id.clone();
    let (job, _) = state
        .engine
        .submit(Submission {
            owner_id: user.id.clone(),
            pipeline: PIPELINE.to_owned(),
            upload_id: Some(upload_id),
            params: json!({ "joint": joint }),
            idempotency_key: None,
            notices: owner_notices(state, user),
        })
        .await?;
    Ok(job)
}

/// `GET /status/{job_id}`: `processando` with a percentage, then
/// `concluido` with the result names, `erro` with the reason, or `cancelado`.
pub async fn status(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Json<Value>, CompatError> {
    let job = biomech_job(&state, &user, &id).await?;
    let progress = (job.progress * 100.0).round() as i64;
    let body = match job.state {
        JobState::Succeeded => {
            let names: Vec<String> = state
                .engine
                .store
                .list_artifacts(&job.id)
                .await
                .map_err(ApiError::from)?
                .iter()
                .map(|a| result_name(&a.name))
                .collect();
            json!({"status": "concluido", "progress": 100, "zip_file": ZIP_NAME, "resultados": names})
        }
        JobState::Failed => json!({
            "status": "erro",
            "progress": progress,
            "message": job.error.unwrap_or_else(|| "the analysis failed".to_owned()),
            "resultados": null,
        }),
        JobState::Cancelled => {
            json!({"status": "cancelado", "progress": progress, "resultados": null})
        }
        JobState::Queued | JobState::Running | JobState::Retrying => {
            json!({"status": "processando", "progress": progress, "resultados": null})
        }
    };
    Ok(Json(body))
}

/// `POST /cancelar/{job_id}`.
pub async fn cancel(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Json<Value>, CompatError> {
    let job = biomech_job(&state, &user, &id).await?;
    if job.state.is_terminal() {
        return Err(ApiError::conflict(format!(
            "the analysis has already ended ({})",
            job.state.as_str()
        ))
        .into());
    }
    state.engine.cancel(&job.id).await.map_err(ApiError::from)?;
    Ok(Json(json!({"message": "Sinal de cancelamento enviado."})))
}

/// `GET /download-zip/{job_id}`: every result in `analise_final.zip`.
pub async fn download_zip(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path(id): Path<String>,
) -> Result<Response, CompatError> {
    let job = finished_job(&state, &user, &id).await?;
    Ok(serve_archive(&state, &job.id, ZIP_NAME, result_name).await?)
}

/// `GET /resultados/{job_id}/{nome_arquivo}`: one result, by the name
/// `/status` listed.
pub async fn result_file(
    State(state): State<AppState>,
    MaybeAnonymous(user): MaybeAnonymous,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, CompatError> {
    let job = finished_job(&state, &user, &id).await?;
    let artifacts = state
        .engine
        .store
        .list_artifacts(&job.id)
        .await
        .map_err(ApiError::from)?;
    let artifact = artifacts
        .iter()
        .find(|a| result_name(&a.name) == name)
        .ok_or_else(|| ApiError::not_found(&format!("result {name:?}")))?;
    Ok(serve_artifact(&state, artifact, headers.get(header::RANGE)).await?)
}

/// The caller's job, if it is a biomechanics one; 404 otherwise.
async fn biomech_job(state: &AppState, user: &AuthUser, id: &str) -> Result<JobRecord, ApiError> {
    let job = visible_job(state, user, id).await?;
    if job.pipeline == PIPELINE {
        Ok(job)
    } else {
        Err(ApiError::not_found("job"))
    }
}

/// A job whose results are ready; 409 while it runs or when it did not succeed.
async fn finished_job(state: &AppState, user: &AuthUser, id: &str) -> Result<JobRecord, ApiError> {
    let job = biomech_job(state, user, id).await?;
    if job.state != JobState::Succeeded {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_ready",
            format!("the analysis has no results ({})", job.state.as_str()),
        ));
    }
    Ok(job)
}

/// The name the original server gave a result: charts in Portuguese, the
/// overlay as `video_overlay.mp4`; the other files keep kinoflow's names.
fn result_name(artifact: &str) -> String {
    if artifact == "overlay.mp4" {
        return "video_overlay.mp4".to_owned();
    }
    let joint = artifact
        .strip_prefix("chart_")
        .and_then(|rest| rest.strip_suffix(".png"));
    let portuguese = joint.and_then(|joint| match joint {
        "knee" => Some("joelho"),
        "hip" => Some("quadril"),
        "ankle" => Some("tornozelo"),
        "elbow" => Some("cotovelo"),
        "shoulder" => Some("ombro"),
        "trunk" => Some("tronco"),
        _ => None,
    });
    match portuguese {
        Some(name) => format!("grafico_{name}.png"),
        None => artifact.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::result_name;

    #[test]
    fn results_keep_the_original_names() {
        assert_eq!(result_name("chart_knee.png"), "grafico_joelho.png");
        assert_eq!(result_name("chart_trunk.png"), "grafico_tronco.png");
        assert_eq!(result_name("overlay.mp4"), "video_overlay.mp4");
        assert_eq!(result_name("angles.csv"), "angles.csv");
    }
}
