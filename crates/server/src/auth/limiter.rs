//! Login attempts are limited per e-mail address, so a password cannot be
//! guessed at speed.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// A per-address limit on login attempts.
pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    /// Allows `per_minute` attempts a minute for each address (at least one).
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// Counts an attempt for `email`, or refuses it with 429.
    pub fn check(&self, email: &str) -> Result<(), ApiError> {
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&email.to_owned()).map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many login attempts for this address; wait a minute and try again",
            )
        })
    }
}
