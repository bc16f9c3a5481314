//! DeepEmotion's account routes. An account is a kinoflow account (the
//! same e-mail address and password log in on `/v1`) with a user name.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::body::{object, truthy_string, Fields};
use super::caller::Caller;
use super::error::{DeepEmotionError, MessageBody};
use super::records::Records;
use super::vocabulary::UserView;
use crate::auth::{AuthUser, ClientNetwork};
use crate::routes::auth::{create_account, log_in, normalise_email, Credentials};
use crate::state::AppState;

/// The longest e-mail address the original's column held.
const MAX_EMAIL_CHARS: usize = 100;

/// `POST /auth/register`'s body.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct Registration {
    /// 3 to 50 characters, unique whatever their case.
    username: String,
    email: String,
    /// At least 8 characters.
    password: String,
}

/// `POST /auth/login`'s body.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request for the OpenAPI document only
pub struct Login {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct AccessToken {
    /// A kinoflow access token (a JWT whose `sub` is the user's id).
    access_token: String,
}

/// Creates an account.
#[utoipa::path(post, path = "/api/v2/auth/register", tag = "deepemotion", operation_id = "deepemotion_register",
    request_body = Registration,
    responses((status = 201, body = UserView), (status = 400, body = MessageBody),
              (status = 409, body = MessageBody), (status = 422, description = "`{field: [messages]}` and `error`"),
              (status = 429, body = MessageBody)))]
pub async fn register(
    State(state): State<AppState>,
    client: ClientNetwork,
    body: Bytes,
) -> Result<(StatusCode, Json<UserView>), DeepEmotionError> {
    state.auth_limits.check_registration_from(&client)?;
    let mut fields = Fields::new(object(&body)?, &["username", "email", "password"]);
    let username = fields.string("username", 3, Some(50));
    let email = fields.email("email", MAX_EMAIL_CHARS);
    let password = fields.string("password", 8, None);
    let (username, email, password) = fields.finish(
        username
            .zip(email)
            .zip(password)
            .map(|((u, e), p)| (u, e, p)),
    )?;
    let records = Records(state.store.as_ref());
    if records.username_taken(&username).await? {
        return Err(taken_username());
    }
    if state
        .store
        .user_by_email(&normalise_email(&email))
        .await
        .map_err(crate::error::ApiError::from)?
        .is_some()
    {
        return Err(DeepEmotionError::said(
            StatusCode::CONFLICT,
            "Email já cadastrado.",
        ));
    }
    let user = AuthUser::from(create_account(&state, Credentials { email, password }).await?);
    // Taken between the check and now: the account stands, without a name.
    if !records.set_username(&user.id, &username).await? {
        return Err(taken_username());
    }
    Ok((
        StatusCode::CREATED,
        Json(UserView::new(&user, Some(username))),
    ))
}

fn taken_username() -> DeepEmotionError {
    DeepEmotionError::said(StatusCode::CONFLICT, "Nome de usuário já existe.")
}

/// Exchanges an e-mail address and password for an access token.
#[utoipa::path(post, path = "/api/v2/auth/login", tag = "deepemotion", operation_id = "deepemotion_login",
    request_body = Login,
    responses((status = 200, body = AccessToken), (status = 400, body = MessageBody),
              (status = 401, body = MessageBody), (status = 429, body = MessageBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientNetwork,
    body: Bytes,
) -> Result<Json<AccessToken>, DeepEmotionError> {
    state.auth_limits.check_login_from(&client)?;
    let body = object(&body)?;
    let (Some(email), Some(password)) = (
        truthy_string(&body, "email"),
        truthy_string(&body, "password"),
    ) else {
        return Err(DeepEmotionError::bad_request(
            "Email e senha são obrigatórios.",
        ));
    };
    let user = log_in(&state, Credentials { email, password })
        .await
        .map_err(|e| {
            if e.status() == StatusCode::UNAUTHORIZED {
                DeepEmotionError::said(
                    StatusCode::UNAUTHORIZED,
                    "Credenciais inválidas. Verifique seu email e senha.",
                )
            } else {
                e.into()
            }
        })?;
    Ok(Json(AccessToken {
        access_token: state.tokens.issue(&user.id)?,
    }))
}

/// The caller's account.
#[utoipa::path(get, path = "/api/v2/auth/profile", tag = "deepemotion", operation_id = "deepemotion_profile",
    security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = MessageBody),
              (status = 422, body = MessageBody)))]
pub async fn profile(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<UserView>, DeepEmotionError> {
    let username = Records(state.store.as_ref()).username(&user.id).await?;
    Ok(Json(UserView::new(&user, username)))
}
