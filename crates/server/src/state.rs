//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;

use kinoflow_engine::Engine;
use tokio_util::sync::CancellationToken;

use crate::auth::{LoginLimiter, TokenKeys};
use crate::metrics::HttpMetrics;

/// The server's settings (the CLI fills them from flags, environment and file).
#[derive(Clone)]
pub struct ServerConfig {
    /// Signs access tokens.
    pub jwt_secret: Vec<u8>,
    /// How long an access token lasts.
    pub token_ttl: Duration,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The most bytes one user may keep (uploads and artifacts); `None`: no quota.
    pub user_quota_bytes: Option<u64>,
    /// How long a presigned upload URL accepts the file.
    pub presign_ttl: Duration,
    /// Login attempts allowed per e-mail address per minute.
    pub login_attempts_per_minute: u32,
    /// The address clients reach the server at, for links it hands out.
    pub public_url: Option<String>,
    /// Serve the compatible APIs that the original services served without
    /// authentication to callers without a token.
    pub allow_anonymous: bool,
    /// Accept callback and endpoint URLs on internal addresses.
    pub webhook_allow_private: bool,
    /// An SMTP server is configured, so jobs may ask to be mailed.
    pub mail_enabled: bool,
}

/// The handlers' shared state.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub tokens: Arc<TokenKeys>,
    pub login_limiter: Arc<LoginLimiter>,
    pub max_upload_bytes: u64,
    pub user_quota_bytes: Option<u64>,
    pub presign_ttl: Duration,
    /// Signs share links; derived from the token secret.
    pub link_key: Arc<Vec<u8>>,
    pub public_url: Option<String>,
    pub allow_anonymous: bool,
    pub webhook_allow_private: bool,
    pub mail_enabled: bool,
    pub http_metrics: HttpMetrics,
    /// Cancelled when the server shuts down, so long-lived streams end.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(engine: Engine, config: &ServerConfig, shutdown: CancellationToken) -> Self {
        let http_metrics = HttpMetrics::register(&engine.metrics.registry);
        Self {
            tokens: Arc::new(TokenKeys::new(&config.jwt_secret, config.token_ttl)),
            login_limiter: Arc::new(LoginLimiter::new(config.login_attempts_per_minute)),
            max_upload_bytes: config.max_upload_bytes,
            user_quota_bytes: config.user_quota_bytes,
            presign_ttl: config.presign_ttl,
            link_key: Arc::new(link_key(&config.jwt_secret)),
            public_url: config.public_url.clone(),
            allow_anonymous: config.allow_anonymous,
            webhook_allow_private: config.webhook_allow_private,
            mail_enabled: config.mail_enabled,
            http_metrics,
            shutdown,
            engine,
        }
    }
}

/// A key for share links of its own, so that a link signature can never pass
/// for a token signature or the other way round.
pub(crate) fn link_key(secret: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(b"kinoflow share links");
    mac.finalize().into_bytes().to_vec()
}
