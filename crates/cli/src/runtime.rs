//! Turns the configuration into the running parts: store, blobs, engine,
//! notifier, sweeper.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use kinoflow_engine::blobs::BlobStore;
use kinoflow_engine::store::{PostgresStore, SqliteStore, Store};
use kinoflow_engine::{Engine, Sweeper};
use kinoflow_notify::Notifier;
use kinoflow_server::ResultLinks;
use kinoflow_vision::Runtime;
use rand::RngCore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// A node runs ffmpeg and ffprobe (to check uploads and to run video jobs):
/// it does not start without them.
pub async fn require_media_tools() -> anyhow::Result<()> {
    kinoflow_media::check_installed()
        .await
        .context("kinoflow needs ffmpeg and ffprobe on PATH (scripts/install-deps installs them)")
}

/// What a node runs on: its database, and the engine over that database
/// and the storage, with every pipeline it offers.
pub struct Parts {
    /// For the records the engine does not run: accounts, keys, webhooks.
    pub store: Arc<dyn Store>,
    pub engine: Engine,
    /// What runs the models.
    pub inference: Runtime,
}

/// The database and engine the configuration describes.
pub async fn open_parts(config: &Config) -> anyhow::Result<Parts> {
    let store = open_database(config).await?;
    let blobs = open_blobs(&config.node.storage_url).await?;
    let inference = start_inference(config)?;
    let pipelines = kinoflow_pipelines::all(config.pipeline_options(inference.clone()));
    let engine_config = config.engine_config(&pipelines.names())?;
    let engine = Engine::new(store.clone(), blobs, pipelines, engine_config);
    Ok(Parts {
        store,
        engine,
        inference,
    })
}

/// The runtime the configuration chooses for the models, said in the log. A
/// node told to use ONNX Runtime does not start without it; `auto` falls
/// back to tract and says why.
pub fn start_inference(config: &Config) -> anyhow::Result<Runtime> {
    let runtime = Runtime::start(&config.inference_settings()?)
        .context("inference is ort (KINOFLOW_INFERENCE), but ONNX Runtime cannot be used")?;
    match runtime.fallback() {
        Some(reason) => tracing::warn!(%reason, runtime = %runtime.description(),
            "ONNX Runtime is not available: the models run on tract"),
        None => tracing::info!(runtime = %runtime.description(), "models run on this runtime"),
    }
    Ok(runtime)
}

/// The database the configuration names, in a data directory only its
/// owner may enter.
pub async fn open_database(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    create_private_dir(&config.node.data_dir)?;
    open_store(config.node.database_url.expose()).await
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

/// The token secret (it also signs links) comes from configuration or, when
/// none is set, from a file in the data directory made on first start.
pub fn token_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    match config
        .auth
        .jwt_secret
        .as_ref()
        .map(|secret| secret.expose())
    {
        Some(secret) if secret.len() < 16 => bail!("jwt_secret must be at least 16 characters"),
        Some(secret) => Ok(secret.as_bytes().to_vec()),
        None => stored_secret(&config.node.data_dir.join("jwt_secret")),
    }
}

/// Starts this node's notifier, which delivers the outbox's webhooks and mail
/// until `shutdown` fires; `jwt_secret` signs the links in mail.
pub fn start_notifier(
    config: &Config,
    store: &Arc<dyn Store>,
    jwt_secret: &[u8],
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let links = ResultLinks::new(
        jwt_secret,
        config
            .node
            .public_url
            .as_deref()
            .unwrap_or("http://localhost"),
        config.mail_link_ttl(),
    );
    let notifier = Notifier::new(store.clone(), config.notifier_config()?, Arc::new(links))
        .map_err(anyhow::Error::msg)?;
    Ok(tokio::spawn(notifier.run(shutdown)))
}

/// Starts this node's sweeper, which removes leftovers (and, with a
/// retention period, old jobs and uploads) at once and then every interval,
/// until `shutdown` fires.
pub fn start_sweeper(
    config: &Config,
    engine: &Engine,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(Sweeper::new(engine.clone(), config.sweeper_config()).run(shutdown))
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
