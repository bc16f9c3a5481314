//! Posted forms: their fields, and the CSRF check every one of them passes
//! before anything is done.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;

use crate::auth::session;
use crate::state::AppState;

use super::browser::SignedIn;
use super::page;

/// The name of the hidden field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A posted form's fields, in order (a name may come more than once).
pub struct Fields(pub Vec<(String, String)>);

impl FromRequest<AppState> for Fields {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map(|Form(fields)| Self(fields))
            .map_err(|e| page::error_page(StatusCode::BAD_REQUEST, &e.body_text()))
    }
}

impl Fields {
    /// The last value of field `name` (a checkbox after its hidden default
    /// wins), trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.trim())
    }

    /// Every value of field `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// Refuses a form whose CSRF token is not the one bound to `binding` (a
    /// session id, or the pre-session cookie of the sign-in forms).
    pub fn check_csrf(&self, state: &AppState, binding: &str) -> Result<(), CsrfRefused> {
        let token = self.get(CSRF_FIELD).unwrap_or_default();
        if session::csrf_matches(state, binding, token) {
            Ok(())
        } else {
            Err(CsrfRefused)
        }
    }
}

/// A form without its CSRF token: answered 403, nothing done.
#[derive(Debug)]
pub struct CsrfRefused;

impl IntoResponse for CsrfRefused {
    fn into_response(self) -> Response {
        page::error_page(
            StatusCode::FORBIDDEN,
            "This form did not carry its security token (CSRF), so nothing was done. \
             Go back, reload the page and try again.",
        )
    }
}

/// A form posted by a signed-in user, its CSRF token checked: a handler
/// that takes one does nothing for a form that did not come from our page.
pub struct SignedInForm {
    pub signed_in: SignedIn,
    pub fields: Fields,
}

impl FromRequest<AppState> for SignedInForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed_in = SignedIn::from_request_parts(&mut parts, state).await?;
        let fields = Fields::from_request(Request::from_parts(parts, body), state).await?;
        fields
            .check_csrf(state, &signed_in.session_id)
            .map_err(IntoResponse::into_response)?;
        Ok(Self { signed_in, fields })
    }
}
