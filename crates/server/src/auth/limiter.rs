//! Logging in and registering are rate limited per account and per client
//! network, so that passwords cannot be guessed at speed and one client
//! cannot keep the server hashing passwords. The limiters hold little
//! whatever clients send: keys have a fixed size (a hash of the e-mail
//! address, the client's network), and every minute the keys whose
//! allowance has grown back in full are forgotten.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::client::ClientNetwork;
use crate::error::{code, ApiError};

/// How often each limiter forgets the keys that have recovered.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// The limits on attempts a minute.
#[derive(Debug, Clone, Copy)]
pub struct AuthQuotas {
    /// Login attempts for one e-mail address.
    pub logins_per_account: u32,
    /// Login attempts from one client network.
    pub logins_per_address: u32,
    /// Registrations from one client network.
    pub registrations_per_address: u32,
}

/// The limiters of logging in and registering.
pub struct AuthLimits {
    logins_per_account: AttemptLimiter<[u8; 32]>,
    logins_per_address: AttemptLimiter<IpAddr>,
    registrations_per_address: AttemptLimiter<IpAddr>,
}

impl AuthLimits {
    pub fn new(quotas: AuthQuotas) -> Self {
        Self {
            logins_per_account: AttemptLimiter::per_minute(
                quotas.logins_per_account,
                "too many login attempts for this address; wait a minute and try again",
            ),
            logins_per_address: AttemptLimiter::per_minute(
                quotas.logins_per_address,
                "too many login attempts from your network; wait a minute and try again",
            ),
            registrations_per_address: AttemptLimiter::per_minute(
                quotas.registrations_per_address,
                "too many accounts registered from your network; wait a minute and try again",
            ),
        }
    }

    /// Counts a login attempt from `client`, or refuses it with 429.
    pub fn check_login_from(&self, client: &ClientNetwork) -> Result<(), ApiError> {
        client
            .network()
            .map_or(Ok(()), |network| self.logins_per_address.check(&network))
    }

    /// Counts a login attempt for the (normalised) e-mail address, or
    /// refuses it with 429.
    pub fn check_login_to(&self, email: &str) -> Result<(), ApiError> {
        self.logins_per_account
            .check(&Sha256::digest(email.as_bytes()).into())
    }

    /// Counts a registration from `client`, or refuses it with 429.
    pub fn check_registration_from(&self, client: &ClientNetwork) -> Result<(), ApiError> {
        client.network().map_or(Ok(()), |network| {
            self.registrations_per_address.check(&network)
        })
    }
}

/// Counts attempts per key and refuses those over the quota.
struct AttemptLimiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    pruned_at: Mutex<Instant>,
    /// What a refused client is told.
    refusal: &'static str,
}

impl<K: Hash + Eq + Clone> AttemptLimiter<K> {
    /// Allows `per_minute` attempts a minute for each key (at least one).
    fn per_minute(per_minute: u32, refusal: &'static str) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            pruned_at: Mutex::new(Instant::now()),
            refusal,
        }
    }

    fn check(&self, key: &K) -> Result<(), ApiError> {
        self.prune_when_due();
        self.limiter
            .check_key(key)
            .map_err(|_| ApiError::new(code::TOO_MANY_ATTEMPTS, self.refusal))
    }

    /// Forgets the keys that could make a full burst again, once a
    /// [`PRUNE_INTERVAL`]: they are worth nothing but memory.
    fn prune_when_due(&self) {
        let Ok(mut pruned_at) = self.pruned_at.try_lock() else {
            // Another request is pruning right now.
            return;
        };
        if pruned_at.elapsed() >= PRUNE_INTERVAL {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
            *pruned_at = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes the limiter's next check prune, as if a minute had passed.
    fn age(limiter: &AttemptLimiter<u32>) {
        *limiter.pruned_at.lock().unwrap() -= PRUNE_INTERVAL;
    }

    #[test]
    fn keys_that_recovered_are_forgotten_once_a_minute() {
        // 60 000 a minute: an attempt's allowance grows back within a millisecond.
        let quick = AttemptLimiter::per_minute(60_000, "no");
        quick.check(&1).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        quick.check(&2).unwrap();
        assert_eq!(quick.limiter.len(), 2, "pruned before a minute passed");
        age(&quick);
        std::thread::sleep(Duration::from_millis(10));
        quick.check(&3).unwrap();
        assert_eq!(quick.limiter.len(), 1, "keys 1 and 2 were kept");

        // One a minute: a key that was just used is still remembered.
        let slow = AttemptLimiter::per_minute(1, "no");
        slow.check(&1).unwrap();
        age(&slow);
        slow.check(&2).unwrap();
        assert!(slow.check(&1).is_err());
        assert_eq!(slow.limiter.len(), 2);
    }
}
