//! Webhook endpoints: URLs a user registers to hear of their jobs' events,
//! each with its own signing secret; and the secret that signs calls to
//! the `callback_url` a job names.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kinoflow_engine::store::{now_ms, WebhookEndpoint, WEBHOOK_EVENTS};
use kinoflow_notify::signature::new_secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::notices::checked_url;
use crate::state::AppState;
use crate::views::rfc3339;

/// The most endpoints one user may register.
const MAX_ENDPOINTS: usize = 20;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An http(s) URL on a public address.
    pub url: String,
    /// Some of `job.succeeded`, `job.failed`, `job.cancelled`, `job.progress`.
    pub events: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// `whsec_…`; shown when the endpoint is made and when its secret is rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Serialize, ToSchema)]
pub struct SecretView {
    /// `whsec_…`: verify deliveries with it (Standard Webhooks).
    pub secret: String,
}

impl WebhookView {
    fn new(endpoint: WebhookEndpoint, show_secret: bool) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url,
            events: endpoint.events,
            secret: show_secret.then_some(endpoint.secret),
            created_at: rfc3339(endpoint.created_at),
        }
    }
}

/// Registers an endpoint; the answer holds its secret.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = CreateWebhook,
    responses((status = 201, body = WebhookView), (status = 401, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(request): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let events = checked_events(request.events)?;
    let url = checked_url(&state, "url", &request.url).await?;
    if state.store.list_webhooks(&user.id).await?.len() >= MAX_ENDPOINTS {
        return Err(ApiError::conflict(format!(
            "you have {MAX_ENDPOINTS} webhook endpoints already; delete one first"
        )));
    }
    let endpoint = WebhookEndpoint {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: user.id.clone(),
        url,
        events,
        secret: new_secret(),
        created_at: now_ms(),
    };
    state.store.create_webhook(&endpoint).await?;
    Ok((StatusCode::CREATED, Json(WebhookView::new(endpoint, true))))
}

/// The known events, each once, in the order given.
fn checked_events(events: Vec<String>) -> Result<Vec<String>, ApiError> {
    if events.is_empty() {
        return Err(ApiError::unprocessable(format!(
            "events must name at least one of {}",
            WEBHOOK_EVENTS.join(", ")
        )));
    }
    let mut checked: Vec<String> = Vec::new();
    for event in events {
        if !WEBHOOK_EVENTS.contains(&event.as_str()) {
            return Err(ApiError::unprocessable(format!(
                "unknown event {event:?}; known events: {}",
                WEBHOOK_EVENTS.join(", ")
            )));
        }
        if !checked.contains(&event) {
            checked.push(event);
        }
    }
    Ok(checked)
}

/// The caller's endpoints (without their secrets).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = WebhookList), (status = 401, body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<WebhookList>, ApiError> {
    let webhooks = state.store.list_webhooks(&user.id).await?;
    Ok(Json(WebhookList {
        webhooks: webhooks
            .into_iter()
            .map(|endpoint| WebhookView::new(endpoint, false))
            .collect(),
    }))
}

/// Deletes an endpoint; deliveries still waiting for it are given up.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.delete_webhook(&user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("webhook"))
    }
}

/// Gives an endpoint a new secret; the old one stops signing at once.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let endpoint = state
        .store
        .set_webhook_secret(&user.id, &id, &new_secret())
        .await?
        .ok_or_else(|| ApiError::not_found("webhook"))?;
    Ok(Json(WebhookView::new(endpoint, true)))
}

/// The secret that signs calls to your jobs' `callback_url`.
#[utoipa::path(get, path = "/v1/webhooks/callback-secret", tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 200, body = SecretView), (status = 401, body = ErrorBody)))]
pub async fn callback_secret(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<SecretView>, ApiError> {
    let secret = state.store.callback_secret(&user.id, &new_secret()).await?;
    Ok(Json(SecretView { secret }))
}

/// Replaces the callback secret; the old one stops signing at once.
#[utoipa::path(post, path = "/v1/webhooks/callback-secret/rotate", tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 200, body = SecretView), (status = 401, body = ErrorBody)))]
pub async fn rotate_callback_secret(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<SecretView>, ApiError> {
    let secret = new_secret();
    state.store.set_callback_secret(&user.id, &secret).await?;
    Ok(Json(SecretView { secret }))
}
