//! Callers of the compatible APIs whose originals had no authentication:
//! with `allow_anonymous`, a request without a token acts as one shared
//! anonymous account (whose jobs are reachable only by their unguessable
//! ids); otherwise the same bearer token as `/v1` is required.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kinoflow_engine::store::{Role, StoreError};

use super::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The account anonymous jobs belong to. It has no password, so nobody can
/// log in as it.
const ANONYMOUS_EMAIL: &str = "anonymous@kinoflow.invalid";
const NO_PASSWORD: &str = "!";

/// The caller: the token's user, or the anonymous account when there is no
/// token and the operator allows it.
pub struct MaybeAnonymous(pub AuthUser);

impl FromRequestParts<AppState> for MaybeAnonymous {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let has_token = parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION);
        if has_token || !state.allow_anonymous {
            return AuthUser::from_request_parts(parts, state).await.map(Self);
        }
        anonymous_user(state).await.map(Self)
    }
}

/// The anonymous account, made on first use.
async fn anonymous_user(state: &AppState) -> Result<AuthUser, ApiError> {
    let store = &state.store;
    let user = match store.user_by_email(ANONYMOUS_EMAIL).await? {
        Some(user) => user,
        None => match store
            .create_user(ANONYMOUS_EMAIL, NO_PASSWORD, Role::User)
            .await
        {
            Ok(user) => user,
            // Another request made it first.
            Err(StoreError::Conflict(_)) => store
                .user_by_email(ANONYMOUS_EMAIL)
                .await?
                .ok_or_else(|| ApiError::internal("the anonymous account vanished"))?,
            Err(e) => return Err(e.into()),
        },
    };
    // Someone who registered the address with a password must never be
    // the account every anonymous caller acts as.
    if user.password_hash != NO_PASSWORD {
        return Err(ApiError::internal(
            "the anonymous account's address belongs to a registered user",
        ));
    }
    Ok(user.into())
}
