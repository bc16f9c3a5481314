//! Every error code kinoflow's own API answers, in one registry: a client
//! can rely on these strings, and each carries the status it is sent with.
//! A code can only be made here, so a new one is added to this list.

use axum::http::StatusCode;

/// A stable machine-readable error code and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    name: &'static str,
    status: StatusCode,
}

impl Code {
    const fn new(name: &'static str, status: StatusCode) -> Self {
        Self { name, status }
    }

    /// The code as clients read it in `error.code`.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The status an error with this code is answered with.
    pub fn status(self) -> StatusCode {
        self.status
    }
}

/// The request is malformed: bad JSON, query or multipart body.
pub const BAD_REQUEST: Code = Code::new("bad_request", StatusCode::BAD_REQUEST);
/// No valid credentials were given.
pub const UNAUTHORIZED: Code = Code::new("unauthorized", StatusCode::UNAUTHORIZED);
/// The caller is known but may not do this.
pub const FORBIDDEN: Code = Code::new("forbidden", StatusCode::FORBIDDEN);
/// The route or the thing it names does not exist (or is not the caller's).
pub const NOT_FOUND: Code = Code::new("not_found", StatusCode::NOT_FOUND);
/// The route exists but not with this method.
pub const METHOD_NOT_ALLOWED: Code =
    Code::new("method_not_allowed", StatusCode::METHOD_NOT_ALLOWED);
/// The client took too long to send its request.
pub const TIMEOUT: Code = Code::new("timeout", StatusCode::REQUEST_TIMEOUT);
/// The request conflicts with the current state (e.g. a name already taken).
pub const CONFLICT: Code = Code::new("conflict", StatusCode::CONFLICT);
/// A job's results were asked for before it has any.
pub const NOT_READY: Code = Code::new("not_ready", StatusCode::CONFLICT);
/// A body, upload or field is larger than its limit.
pub const TOO_LARGE: Code = Code::new("too_large", StatusCode::PAYLOAD_TOO_LARGE);
/// The upload would take the caller over their storage quota.
pub const QUOTA_EXCEEDED: Code = Code::new("quota_exceeded", StatusCode::PAYLOAD_TOO_LARGE);
/// The body is not in a format the route reads.
pub const UNSUPPORTED_MEDIA_TYPE: Code =
    Code::new("unsupported_media_type", StatusCode::UNSUPPORTED_MEDIA_TYPE);
/// A byte range outside the object, or more than one range.
pub const RANGE_NOT_SATISFIABLE: Code =
    Code::new("range_not_satisfiable", StatusCode::RANGE_NOT_SATISFIABLE);
/// The request is well formed but its content is refused; `fields` says
/// which parts.
pub const INVALID_INPUT: Code = Code::new("invalid_input", StatusCode::UNPROCESSABLE_ENTITY);
/// An idempotency key was sent again with a different request.
pub const IDEMPOTENCY_KEY_REUSED: Code =
    Code::new("idempotency_key_reused", StatusCode::UNPROCESSABLE_ENTITY);
/// Too many sign-in attempts; wait and try again.
pub const TOO_MANY_ATTEMPTS: Code = Code::new("too_many_attempts", StatusCode::TOO_MANY_REQUESTS);
/// Too many requests of another kind.
pub const TOO_MANY_REQUESTS: Code = Code::new("too_many_requests", StatusCode::TOO_MANY_REQUESTS);
/// Any other refusal axum answers itself; its status says more.
pub const REFUSED: Code = Code::new("refused", StatusCode::BAD_REQUEST);
/// A bug or an unexpected failure on the server; the log has the cause.
pub const INTERNAL: Code = Code::new("internal", StatusCode::INTERNAL_SERVER_ERROR);
/// The database or the storage cannot be reached; try again shortly.
pub const UNAVAILABLE: Code = Code::new("unavailable", StatusCode::SERVICE_UNAVAILABLE);

/// Every code, so a test can hold them to being distinct.
#[cfg(test)]
const ALL: &[Code] = &[
    BAD_REQUEST,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    TIMEOUT,
    CONFLICT,
    NOT_READY,
    TOO_LARGE,
    QUOTA_EXCEEDED,
    UNSUPPORTED_MEDIA_TYPE,
    RANGE_NOT_SATISFIABLE,
    INVALID_INPUT,
    IDEMPOTENCY_KEY_REUSED,
    TOO_MANY_ATTEMPTS,
    TOO_MANY_REQUESTS,
    REFUSED,
    INTERNAL,
    UNAVAILABLE,
];

/// The code of an error that only has a status (one axum answered itself).
pub fn for_status(status: StatusCode) -> Code {
    match status {
        StatusCode::BAD_REQUEST => BAD_REQUEST,
        StatusCode::UNAUTHORIZED => UNAUTHORIZED,
        StatusCode::FORBIDDEN => FORBIDDEN,
        StatusCode::NOT_FOUND => NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => METHOD_NOT_ALLOWED,
        StatusCode::REQUEST_TIMEOUT => TIMEOUT,
        StatusCode::PAYLOAD_TOO_LARGE => TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => UNSUPPORTED_MEDIA_TYPE,
        StatusCode::UNPROCESSABLE_ENTITY => INVALID_INPUT,
        StatusCode::TOO_MANY_REQUESTS => TOO_MANY_REQUESTS,
        _ => REFUSED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_named_once() {
        let mut names: Vec<&str> = ALL.iter().map(|code| code.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn a_status_alone_maps_to_a_code_of_that_status() {
        for code in ALL.iter().filter(|code| **code != REFUSED) {
            let found = for_status(code.status());
            assert!(
                found == REFUSED || found.status() == code.status(),
                "{code:?}"
            );
        }
    }
}
