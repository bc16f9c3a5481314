//! What every request handler shares.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kinoflow_ai::AiSettings;
use kinoflow_engine::store::Store;
use kinoflow_engine::Engine;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthLimits, AuthQuotas, PasswordHashing, TokenKeys};
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
    /// Login and registration attempts allowed a minute.
    pub auth_quotas: AuthQuotas,
    /// The most bytes one user may keep (uploads and artifacts); `None`: no quota.
    pub user_quota_bytes: Option<u64>,
    /// How long a presigned upload URL accepts the file.
    pub presign_ttl: Duration,
    /// The address clients reach the server at, for links it hands out.
    pub public_url: Option<String>,
    /// Serve the compatible APIs that the original services served without
    /// authentication to callers without a token.
    pub allow_anonymous: bool,
    /// Accept callback and endpoint URLs on internal addresses.
    pub webhook_allow_private: bool,
    /// An SMTP server is configured, so jobs may ask to be mailed.
    pub mail_enabled: bool,
    /// How many connections, and how slow a client may be.
    pub connections: crate::ConnectionLimits,
    /// What runs the models on this node (`onnxruntime` or `tract`), for `/ready`.
    pub inference: &'static str,
    /// The origins browsers may call the API from (checked with
    /// [`crate::parse_origin`]); none: no CORS headers.
    pub cors_origins: Vec<axum::http::HeaderValue>,
    /// How the compatible APIs differ from the originals, where an operator chooses.
    pub compat: CompatSettings,
    /// The AI provider that writes scripts and draws pictures, if any.
    pub ai: Option<AiSettings>,
}

/// Choices for the compatible APIs.
#[derive(Debug, Clone, Default)]
pub struct CompatSettings {
    /// Socket.IO sockets without a token hear every DeepEmotion video's
    /// `{video_id, status, progress}`, as the original's web client expects.
    pub socketio_public_progress: bool,
    /// DeepEmotion refuses videos longer than this many seconds (the
    /// original refused more than 30); none: any length.
    pub deepemotion_max_duration_s: Option<f64>,
    /// The secret an external trainer sends to the production-variables
    /// webhook; none: the webhook refuses everyone.
    pub trainer_secret: Option<String>,
    /// The secret an external render worker sends to ShortsAI's webhook;
    /// none: the webhook is off.
    pub worker_secret: Option<String>,
}

/// The handlers' shared state.
#[derive(Clone)]
pub struct AppState {
    /// Jobs, uploads and artifacts: everything the engine runs goes through it.
    pub engine: Engine,
    /// Accounts, API keys, webhook endpoints and deliveries, records the
    /// engine does not run.
    pub store: Arc<dyn Store>,
    pub tokens: Arc<TokenKeys>,
    pub auth_limits: Arc<AuthLimits>,
    pub passwords: Arc<PasswordHashing>,
    pub max_upload_bytes: u64,
    pub user_quota_bytes: Option<u64>,
    pub presign_ttl: Duration,
    /// Signs share links; derived from the token secret.
    pub link_key: Arc<Vec<u8>>,
    /// The address links are built on: the configured public URL, else the
    /// loopback address the server listens on; `None` when there is neither
    /// (a `Host` header is the client's word, never trusted for links).
    pub link_base: Option<String>,
    pub allow_anonymous: bool,
    pub webhook_allow_private: bool,
    pub mail_enabled: bool,
    pub inference: &'static str,
    pub cors_origins: Arc<[axum::http::HeaderValue]>,
    pub compat: CompatSettings,
    pub ai: Option<AiSettings>,
    pub http_metrics: HttpMetrics,
    /// Cancelled when the server shuts down, so long-lived streams end.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(
        engine: Engine,
        store: Arc<dyn Store>,
        config: &ServerConfig,
        address: SocketAddr,
        shutdown: CancellationToken,
    ) -> Self {
        let http_metrics = HttpMetrics::register(&engine.metrics.registry);
        Self {
            tokens: Arc::new(TokenKeys::new(&config.jwt_secret, config.token_ttl)),
            auth_limits: Arc::new(AuthLimits::new(config.auth_quotas)),
            passwords: Arc::new(PasswordHashing::per_core()),
            max_upload_bytes: config.max_upload_bytes,
            user_quota_bytes: config.user_quota_bytes,
            presign_ttl: config.presign_ttl,
            link_key: Arc::new(link_key(&config.jwt_secret)),
            link_base: link_base(config.public_url.as_deref(), address),
            allow_anonymous: config.allow_anonymous,
            webhook_allow_private: config.webhook_allow_private,
            mail_enabled: config.mail_enabled,
            inference: config.inference,
            cors_origins: config.cors_origins.clone().into(),
            compat: config.compat.clone(),
            ai: config.ai.clone(),
            http_metrics,
            shutdown,
            engine,
            store,
        }
    }
}

/// Where links point: the public URL, else a loopback address we listen on.
fn link_base(public_url: Option<&str>, address: SocketAddr) -> Option<String> {
    match public_url {
        Some(url) => Some(url.trim_end_matches('/').to_owned()),
        None if address.ip().is_loopback() => Some(format!("http://{address}")),
        None => None,
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
