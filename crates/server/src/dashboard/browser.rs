//! Who is looking at a page: the signed-in user of the session cookie, or
//! nobody. Pages that need a user send anyone else to the sign-in page.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::session;
use crate::auth::AuthUser;
use crate::state::AppState;

use super::page;

/// A signed-in user and the session they are signed in with.
#[derive(Clone)]
pub struct SignedIn {
    pub user: AuthUser,
    pub session_id: String,
    /// The token every form of theirs carries.
    pub csrf: String,
}

/// The signed-in user, if any.
pub struct Visitor(pub Option<SignedIn>);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(id) = session::session_id(&parts.headers) else {
            return Ok(Self(None));
        };
        let user = session::session_user(state, id)
            .await
            .map_err(|e| page::api_error(&e))?;
        Ok(Self(user.map(|user| SignedIn {
            user: user.into(),
            csrf: session::csrf_token(state, id),
            session_id: id.to_owned(),
        })))
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Visitor::from_request_parts(parts, state).await?.0 {
            Some(signed_in) => Ok(signed_in),
            None => Err(Redirect::to("/signin").into_response()),
        }
    }
}

/// A signed-in administrator; anyone else signed in gets 403.
pub struct SignedInAdmin(pub SignedIn);

impl FromRequestParts<AppState> for SignedInAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        if signed_in.user.is_admin() {
            Ok(Self(signed_in))
        } else {
            Err(page::error_page(
                axum::http::StatusCode::FORBIDDEN,
                "The operations page is for administrators.",
            ))
        }
    }
}
