//! Secrets that callers outside kinoflow's accounts send (an external
//! trainer's, a render worker's): read from `Authorization: Bearer …` and
//! compared without the time taken saying anything of the secret.

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
}

/// Whether `given` is `secret`, compared as digests (in constant time for
/// any length), both trimmed.
pub fn same_secret(given: &str, secret: &str) -> bool {
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(secret.trim().as_bytes())
}
