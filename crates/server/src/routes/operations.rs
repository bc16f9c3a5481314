//! Liveness and readiness for orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kinoflow_engine::Readiness;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct HealthView {
    /// `ok`, or `unavailable`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// What runs the models on this node: `onnxruntime` or `tract`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference: Option<&'static str>,
}

/// The process is alive, in the words of the biomechanics server whose
/// front end checks this route.
#[derive(Serialize, ToSchema)]
pub struct LivenessView {
    /// Always `online`.
    pub status: &'static str,
    pub message: &'static str,
}

/// The process is alive (`/ready` also checks the database and storage).
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, body = LivenessView)))]
pub async fn health() -> Json<LivenessView> {
    Json(LivenessView {
        status: "online",
        message: "Servidor Biomech Operante",
    })
}

/// The database and the storage answer; says what runs the models.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = HealthView), (status = 503, body = HealthView)))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<HealthView>) {
    let Readiness { database, storage } = state.engine.readiness().await;
    let verdict = |ok: bool| if ok { "ok" } else { "unavailable" }.to_owned();
    let all_ok = database.is_ok() && storage.is_ok();
    if let Err(e) = &database {
        tracing::warn!(error = %e, "readiness: database unavailable");
    }
    if let Err(e) = &storage {
        tracing::warn!(error = %e, "readiness: storage unavailable");
    }
    let status = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(HealthView {
            status: verdict(all_ok),
            database: Some(verdict(database.is_ok())),
            storage: Some(verdict(storage.is_ok())),
            inference: Some(state.inference),
        }),
    )
}
