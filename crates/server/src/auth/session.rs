//! Browser sessions: the dashboard signs people in with a cookie instead of
//! a bearer token. The cookie holds a random id that the store keeps only as
//! a SHA-256, so that signing out ends it on every node. Every request that
//! changes something on a session's behalf must carry the session's CSRF
//! token (a form field or the `X-CSRF-Token` header): a cookie goes with any
//! request a browser makes, the token only with those our own pages make.

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, Method};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::signing;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "kinoflow_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts after signing in.
pub const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

/// A session just started: the cookie to set.
pub struct NewSession {
    pub set_cookie: HeaderValue,
}

/// Starts a session for `user_id` and the cookie that carries it.
pub async fn start(state: &AppState, user_id: &str) -> Result<NewSession, ApiError> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let id = hex::encode(bytes);
    let expires_at = kinoflow_engine::store::now_ms() + SESSION_TTL.as_millis() as i64;
    state
        .store
        .create_session(&id_hash(&id), user_id, expires_at)
        .await?;
    let set_cookie = cookie(state, &id, SESSION_TTL.as_secs())?;
    Ok(NewSession { set_cookie })
}

/// Ends the session `id` on every node.
pub async fn end(state: &AppState, id: &str) -> Result<(), ApiError> {
    Ok(state.store.delete_session(&id_hash(id)).await?)
}

/// The cookie that makes the browser forget its session.
pub fn cleared_cookie(state: &AppState) -> Result<HeaderValue, ApiError> {
    cookie(state, "", 0)
}

/// `HttpOnly` (no script reads it), `SameSite=Lax` (no other site's form
/// or script sends it), `Secure` when the server's public URL is https.
fn cookie(state: &AppState, value: &str, max_age_s: u64) -> Result<HeaderValue, ApiError> {
    let secure = state
        .link_base
        .as_deref()
        .is_some_and(|base| base.starts_with("https://"));
    let text = format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).map_err(ApiError::internal)
}

/// The session id a request's cookie carries, if any.
pub fn session_id(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The value of cookie `name` in a request's `Cookie` headers, if set.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, value)| *cookie == name && !value.is_empty())
        .map(|(_, value)| value)
}

/// The session's CSRF token: a signature of its id, so that nothing more
/// is stored and any node can check it.
pub fn csrf_token(state: &AppState, session_id: &str) -> String {
    signing::sign(&state.link_key, &csrf_message(session_id))
}

/// Whether `token` is the session's CSRF token (compared in constant time).
pub fn csrf_matches(state: &AppState, session_id: &str, token: &str) -> bool {
    signing::verify(&state.link_key, &csrf_message(session_id), token)
}

fn csrf_message(session_id: &str) -> String {
    format!("dashboard csrf\n{session_id}")
}

/// Whether a request with `method` can change something and so needs the
/// CSRF token.
pub fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses (403) a request that changes something without the session's
/// CSRF token in the `X-CSRF-Token` header.
pub fn require_csrf_header(
    state: &AppState,
    session_id: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let token = headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if csrf_matches(state, session_id, token) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "a request signed in by cookie must carry the page's CSRF token (X-CSRF-Token)",
        ))
    }
}

fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// The user of session `id`, while it lasts.
pub async fn session_user(
    state: &AppState,
    id: &str,
) -> Result<Option<kinoflow_engine::store::UserRecord>, ApiError> {
    Ok(state.store.user_by_session_hash(&id_hash(id)).await?)
}
