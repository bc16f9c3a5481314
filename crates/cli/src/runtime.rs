//! Turns settings into the running parts: store, blobs, engine, server config.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use kinoflow_engine::blobs::BlobStore;
use kinoflow_engine::store::{PostgresStore, SqliteStore, Store};
use kinoflow_engine::{Engine, EngineConfig, Sweeper, SweeperConfig};
use kinoflow_notify::{MailSettings, Notifier, NotifierConfig};
use kinoflow_server::{AuthQuotas, ResultLinks, ServerConfig};
use rand::RngCore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::settings::Settings;

/// How often a node looks at the outbox while nothing is due there.
const OUTBOX_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A node runs ffmpeg and ffprobe (to check uploads and to run video jobs):
/// it does not start without them.
pub async fn require_media_tools() -> anyhow::Result<()> {
    kinoflow_media::check_installed()
        .await
        .context("kinoflow needs ffmpeg and ffprobe on PATH (scripts/install-deps installs them)")
}

/// The engine the settings describe, with every pipeline this build has.
pub async fn open_engine(settings: &Settings) -> anyhow::Result<Engine> {
    let data_dir = settings.data_dir();
    create_private_dir(data_dir)?;
    let store = open_store(settings.database_url.as_deref().unwrap_or_default()).await?;
    let blobs = open_blobs(settings.storage_url.as_deref().unwrap_or_default()).await?;
    let mut config = EngineConfig::new(data_dir.join("scratch"));
    config.lease_ttl = Settings::seconds(settings.lease_ttl_s);
    config.max_attempts = settings.max_attempts.unwrap_or(config.max_attempts);
    config.retry_base_delay = Settings::seconds(settings.retry_base_s);
    config.shutdown_grace = Settings::seconds(settings.shutdown_grace_s);
    config.max_running_per_user = settings.max_running_per_user;
    if let Some(limit) = settings.max_run_time_s {
        config.max_run_time = Duration::from_secs(limit);
    }
    let pipelines = kinoflow_pipelines::all(settings.pipeline_options());
    config.max_run_time_by_pipeline = run_time_limits_by_pipeline(settings, &pipelines.names())?;
    Ok(Engine::new(store, blobs, pipelines, config))
}

/// Creates the data directory, or narrows an existing one, so that only its
/// owner may enter: it holds the database (webhook secrets among its rows),
/// the token secret and every upload.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create the data directory {}", dir.display()))?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
            tracing::warn!(dir = %dir.display(), error = %e,
                "the data directory is open to other users and could not be made private");
        }
    }
    Ok(())
}

/// The pipelines' own run time limits; a name no pipeline has is refused,
/// lest a misspelt one leave its pipeline on the general limit unnoticed.
fn run_time_limits_by_pipeline(
    settings: &Settings,
    known: &[String],
) -> anyhow::Result<HashMap<String, Duration>> {
    let limits = settings.max_run_time_s_per_pipeline.iter().flatten();
    limits
        .map(|(pipeline, &seconds)| {
            if !known.contains(pipeline) {
                bail!(
                    "max_run_time_s_per_pipeline names the unknown pipeline {pipeline:?}; known pipelines: {}",
                    known.join(", ")
                );
            }
            Ok((pipeline.clone(), Duration::from_secs(seconds)))
        })
        .collect()
}

async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open_url(url)
            .await
            .with_context(|| format!("could not open the database {url}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let store = PostgresStore::open_url(url)
            .await
            .context("could not open the PostgreSQL database")?;
        return Ok(Arc::new(store));
    }
    bail!("unsupported database URL: use sqlite://PATH or postgres://USER@HOST/DB")
}

async fn open_blobs(url: &str) -> anyhow::Result<Arc<dyn BlobStore>> {
    let blobs = kinoflow_engine::blobs::open(url)
        .await
        .with_context(|| format!("could not open the storage {url}"))?;
    blobs
        .ping()
        .await
        .with_context(|| format!("the storage {url} cannot be written to"))?;
    Ok(blobs)
}

/// The server's settings.
pub fn server_config(settings: &Settings) -> anyhow::Result<ServerConfig> {
    Ok(ServerConfig {
        jwt_secret: token_secret(settings)?,
        token_ttl: std::time::Duration::from_secs(settings.token_ttl_s.unwrap_or(3600)),
        max_upload_bytes: settings.max_upload_bytes.unwrap_or(u64::MAX),
        auth_quotas: AuthQuotas {
            logins_per_account: settings.login_attempts_per_minute.unwrap_or(10),
            logins_per_address: settings.login_attempts_per_address_per_minute.unwrap_or(60),
            registrations_per_address: settings.registrations_per_address_per_minute.unwrap_or(20),
        },
        user_quota_bytes: settings.user_quota_bytes,
        presign_ttl: Duration::from_secs(settings.presign_ttl_s.unwrap_or(3600)),
        public_url: settings.public_url.clone(),
        allow_anonymous: settings.allow_anonymous.unwrap_or(false),
        webhook_allow_private: settings.webhook_allow_private.unwrap_or(false),
        mail_enabled: settings.smtp_url.is_some(),
        connections: settings.connection_limits(),
    })
}

/// The token secret (it also signs links) comes from configuration or, when
/// none is set, from a file in the data directory made on first start.
pub fn token_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    match &settings.jwt_secret {
        Some(secret) if secret.len() < 16 => bail!("jwt_secret must be at least 16 characters"),
        Some(secret) => Ok(secret.as_bytes().to_vec()),
        None => stored_secret(&settings.data_dir().join("jwt_secret")),
    }
}

/// Starts this node's notifier, which delivers the outbox's webhooks and mail
/// until `shutdown` fires; `jwt_secret` signs the links in mail.
pub fn start_notifier(
    settings: &Settings,
    engine: &Engine,
    jwt_secret: &[u8],
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let mail = match (&settings.smtp_url, &settings.mail_from) {
        (Some(smtp_url), Some(from)) => Some(MailSettings {
            smtp_url: smtp_url.clone(),
            from: from.clone(),
            ca_pem: settings
                .smtp_ca_file
                .as_ref()
                .map(|path| {
                    std::fs::read(path)
                        .with_context(|| format!("could not read smtp_ca_file {}", path.display()))
                })
                .transpose()?,
        }),
        _ => None,
    };
    let links = ResultLinks::new(
        jwt_secret,
        settings.public_url.as_deref().unwrap_or("http://localhost"),
        Duration::from_secs(settings.mail_link_ttl_s.unwrap_or(24 * 3600)),
    );
    let config = NotifierConfig {
        allow_private: settings.webhook_allow_private.unwrap_or(false),
        retry_base: Settings::seconds(settings.notify_retry_base_s),
        poll_interval: OUTBOX_POLL_INTERVAL,
        mail,
    };
    let notifier =
        Notifier::new(engine.store.clone(), config, Arc::new(links)).map_err(anyhow::Error::msg)?;
    Ok(tokio::spawn(notifier.run(shutdown)))
}

/// Starts this node's sweeper, which removes leftovers (and, with a
/// retention period, old jobs and uploads) at once and then every interval,
/// until `shutdown` fires.
pub fn start_sweeper(
    settings: &Settings,
    engine: &Engine,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    const DAY_S: f64 = 24.0 * 3600.0;
    let config = SweeperConfig {
        interval: Settings::seconds(settings.sweep_interval_s),
        retention: settings
            .retention_days
            .map(|days| Duration::from_secs_f64(days * DAY_S)),
    };
    tokio::spawn(Sweeper::new(engine.clone(), config).run(shutdown))
}

fn stored_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(secret) = std::fs::read(path) {
        if secret.len() >= 32 {
            return Ok(secret);
        }
    }
    let mut secret = vec![0u8; 64];
    rand::thread_rng().fill_bytes(&mut secret);
    write_private(path, &secret)
        .with_context(|| format!("could not keep the token secret in {}", path.display()))?;
    Ok(secret)
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}
