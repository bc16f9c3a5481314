//! The frame-extraction service's account routes, `POST /users/` and
//! `POST /auth/token`: kinoflow's own `/v1` handlers at the old paths,
//! answering errors in kinoflow's shape as they do there.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::Json;

use crate::auth::ClientNetwork;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::routes::auth::{self, Credentials, PasswordForm, TokenResponse};
use crate::state::AppState;
use crate::views::UserView;

/// Creates an account, as `POST /v1/auth/register` does.
#[utoipa::path(post, path = "/users/", tag = "frame-extraction", operation_id = "frame_extraction_create_user",
    request_body = Credentials,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn create_user(
    state: State<AppState>,
    client: ClientNetwork,
    credentials: ApiJson<Credentials>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    auth::register(state, client, credentials).await
}

/// An access token for an e-mail address and password (OAuth2's password
/// form, `username` being the address), as `POST /v1/auth/token` gives it.
#[utoipa::path(post, path = "/auth/token", tag = "frame-extraction", operation_id = "frame_extraction_token",
    request_body(content(
        (PasswordForm = "application/x-www-form-urlencoded"),
        (Credentials = "application/json"))),
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn token(
    state: State<AppState>,
    client: ClientNetwork,
    request: Request,
) -> Result<Json<TokenResponse>, ApiError> {
    auth::token(state, client, request).await
}
