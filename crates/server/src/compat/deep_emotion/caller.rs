//! Who calls DeepEmotion's routes: a kinoflow access token (or API key) in
//! `Authorization: Bearer …`, refused as Flask-JWT-Extended refused it —
//! 401 when it is missing or has expired, 422 when it is malformed or
//! forged — with `error` beside its `msg` for the web client.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};

use super::error::DeepEmotionError;
use crate::auth::{AuthUser, TokenRefusal, API_KEY_PREFIX};
use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller of a DeepEmotion route.
pub struct Caller(pub AuthUser);

impl FromRequestParts<AppState> for Caller {
    type Rejection = DeepEmotionError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, DeepEmotionError> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            DeepEmotionError::token(StatusCode::UNAUTHORIZED, "Missing Authorization Header")
        })?;
        let credential = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                DeepEmotionError::token(
                    StatusCode::UNAUTHORIZED,
                    "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
                )
            })?;
        authenticate(state, credential).await.map(Self)
    }
}

/// The user of a token or API key, or the original's refusal.
pub async fn authenticate(
    state: &AppState,
    credential: &str,
) -> Result<AuthUser, DeepEmotionError> {
    let unauthorized = |message: &str| DeepEmotionError::token(StatusCode::UNAUTHORIZED, message);
    // A refusal is said the original's way; a database that is down is not a refusal.
    let refused = |error: ApiError, message: &str| {
        if error.status() == StatusCode::UNAUTHORIZED {
            unauthorized(message)
        } else {
            error.into()
        }
    };
    if credential.starts_with(API_KEY_PREFIX) {
        return AuthUser::from_credential(state, credential)
            .await
            .map_err(|e| {
                let message = e.describe();
                refused(e, &message)
            });
    }
    let user_id = state
        .tokens
        .verify(credential)
        .map_err(|refusal| match refusal {
            TokenRefusal::Expired => unauthorized("Token has expired"),
            TokenRefusal::Invalid => {
                DeepEmotionError::token(StatusCode::UNPROCESSABLE_ENTITY, "Invalid token")
            }
        })?;
    AuthUser::token_user(state, &user_id)
        .await
        .map_err(|e| refused(e, "Usuário não encontrado."))
}
