//! Who is calling: passwords, JWTs, API keys, the limits on logging in and
//! registering, and the [`AuthUser`] extractor that every protected route takes.

mod anonymous;
mod api_key;
mod client;
mod limiter;
mod password;
pub mod session;
mod token;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kinoflow_engine::store::{Role, UserRecord};

pub use anonymous::MaybeAnonymous;
pub use api_key::{hash_api_key, new_api_key, API_KEY_PREFIX};
pub use client::ClientNetwork;
pub use limiter::{AuthLimits, AuthQuotas};
pub use password::{hash_password, PasswordHashing};
pub use token::{TokenKeys, TokenRefusal, TOKEN_TYPE};

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub email: String,
    pub role: Role,
    /// Mailed at the end of each of their jobs.
    pub notify_by_email: bool,
    pub created_at: i64,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller may see a resource owned by `owner_id`.
    pub fn may_see(&self, owner_id: &str) -> bool {
        self.id == owner_id || self.is_admin()
    }
}

impl From<UserRecord> for AuthUser {
    fn from(user: UserRecord) -> Self {
        Self {
            id: user.id,
            email: user.email,
            role: user.role,
            notify_by_email: user.notify_by_email,
            created_at: user.created_at,
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Self::from_credential(state, bearer_credential(parts)?).await;
        }
        match session::session_id(&parts.headers) {
            Some(id) => Self::from_session(state, id, parts).await,
            None => Err(ApiError::unauthorized(
                "missing Authorization: Bearer <token>",
            )),
        }
    }
}

impl AuthUser {
    /// The user an access token or API key stands for.
    pub async fn from_credential(state: &AppState, credential: &str) -> Result<Self, ApiError> {
        if credential.starts_with(API_KEY_PREFIX) {
            let user = state
                .store
                .user_by_api_key_hash(&hash_api_key(credential))
                .await?
                .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
            return Ok(user.into());
        }
        let user_id = state.tokens.verify(credential)?;
        Self::token_user(state, &user_id).await
    }

    /// The user of a dashboard session; a request that changes something
    /// must carry the session's CSRF token too.
    async fn from_session(state: &AppState, id: &str, parts: &Parts) -> Result<Self, ApiError> {
        let user = session::session_user(state, id)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the session has ended; sign in again"))?;
        if session::changes_something(&parts.method) {
            session::require_csrf_header(state, id, &parts.headers)?;
        }
        Ok(user.into())
    }

    /// The user of a valid token's `sub`, while their account exists.
    pub async fn token_user(state: &AppState, user_id: &str) -> Result<Self, ApiError> {
        let user = state
            .store
            .user_by_id(user_id)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token's user no longer exists"))?;
        Ok(user.into())
    }
}

/// The token or API key of `Authorization: Bearer …`.
fn bearer_credential(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
    header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be Bearer <token>"))
}

/// The caller, authenticated by a login token rather than an API key: for
/// what a key must not do, such as making more keys (a leaked key would
/// then outlive its revocation). A key gets 403.
pub struct LoggedInUser(pub AuthUser);

impl FromRequestParts<AppState> for LoggedInUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let by_api_key = parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
            && bearer_credential(parts)?.starts_with(API_KEY_PREFIX);
        if by_api_key {
            return Err(ApiError::forbidden(
                "an API key cannot do this; use an access token from /v1/auth/token",
            ));
        }
        Ok(Self(user))
    }
}

/// Proof that the caller is authenticated and has the admin role; anyone
/// else gets 403.
#[derive(Debug, Clone, Copy)]
pub struct AdminUser;

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(AdminUser)
        } else {
            Err(ApiError::forbidden("this route is for administrators"))
        }
    }
}
