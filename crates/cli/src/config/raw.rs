//! Settings as they are given, before defaults: flags and `KINOFLOW_*`
//! variables (clap reads both), over the configuration file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::{Deserialize, Serialize};

use super::defaults;

/// Every setting of a node as given, before defaults: each may come from a
/// flag, from its `KINOFLOW_*` variable, or from the configuration file.
#[derive(Clone, Default, Args, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    /// A TOML configuration file [default: ./kinoflow.toml when it exists]
    #[arg(long, env = "KINOFLOW_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "KINOFLOW_BIND")]
    pub bind: Option<String>,
    /// Where the SQLite database, blobs and secrets live [default: ./data]
    #[arg(long, env = "KINOFLOW_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Job workers in this process; 0 serves the API only [default: one per core]
    #[arg(long, env = "KINOFLOW_WORKERS")]
    pub workers: Option<usize>,
    /// Database URL [default: sqlite://<data-dir>/kinoflow.db]
    #[arg(long, env = "KINOFLOW_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Object storage URL or directory [default: <data-dir>/blobs]
    #[arg(long, env = "KINOFLOW_STORAGE_URL")]
    pub storage_url: Option<String>,
    /// Secret that signs access tokens [default: generated once, kept in the data dir]
    #[arg(long, env = "KINOFLOW_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Access token lifetime in seconds [default: 3600]
    #[arg(long, env = "KINOFLOW_TOKEN_TTL_S")]
    pub token_ttl_s: Option<u64>,
    /// Largest upload accepted, in bytes [default: 2147483648]
    #[arg(long, env = "KINOFLOW_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<u64>,
    /// Seconds without a heartbeat after which a job is given to another worker [default: 30]
    #[arg(long, env = "KINOFLOW_LEASE_TTL_S")]
    pub lease_ttl_s: Option<f64>,
    /// Milliseconds a finished job's end waits to be written together with others' [default: 2]
    #[arg(long, env = "KINOFLOW_COMPLETION_WINDOW_MS")]
    pub completion_window_ms: Option<u64>,
    /// How many times a job may start before a failure is final [default: 3]
    #[arg(long, env = "KINOFLOW_MAX_ATTEMPTS")]
    pub max_attempts: Option<i64>,
    /// First retry delay in seconds; doubles each time [default: 1]
    #[arg(long, env = "KINOFLOW_RETRY_BASE_S")]
    pub retry_base_s: Option<f64>,
    /// On shutdown, seconds running jobs may go on before they are requeued [default: 30]
    #[arg(long, env = "KINOFLOW_SHUTDOWN_GRACE_S")]
    pub shutdown_grace_s: Option<f64>,
    /// Login attempts allowed per e-mail address per minute [default: 10]
    #[arg(long, env = "KINOFLOW_LOGIN_ATTEMPTS_PER_MINUTE")]
    pub login_attempts_per_minute: Option<u32>,
    /// Login attempts allowed per client address per minute (an IPv6 client counts as its /64) [default: 60]
    #[arg(long, env = "KINOFLOW_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE")]
    pub login_attempts_per_address_per_minute: Option<u32>,
    /// Registrations allowed per client address per minute (an IPv6 client counts as its /64) [default: 20]
    #[arg(long, env = "KINOFLOW_REGISTRATIONS_PER_ADDRESS_PER_MINUTE")]
    pub registrations_per_address_per_minute: Option<u32>,
    /// The address clients reach this server at, for the links it hands out [default: the request's Host]
    #[arg(long, env = "KINOFLOW_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// ffmpeg hardware decoder to try first (e.g. cuda, vaapi); falls back to software [default: none]
    #[arg(long, env = "KINOFLOW_HWACCEL")]
    pub hwaccel: Option<String>,
    /// Folder with the ONNX models [default: the models/ folder of the source kinoflow was built from]
    #[arg(long, env = "KINOFLOW_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// What runs the models: auto (ONNX Runtime when its library loads, else tract), ort or tract [default: auto]
    #[arg(long, env = "KINOFLOW_INFERENCE")]
    pub inference: Option<String>,
    /// ONNX Runtime's shared library [default: ~/.local/share/kinoflow/lib/libonnxruntime.so, where scripts/onnxruntime installs it]
    #[arg(long, env = "KINOFLOW_ORT_LIBRARY")]
    pub ort_library: Option<PathBuf>,
    /// ONNX Runtime's execution providers, in order, e.g. cuda,cpu [default: cpu]
    #[arg(long, env = "KINOFLOW_ORT_PROVIDERS")]
    pub ort_providers: Option<String>,
    /// Threads each ONNX Runtime model call computes with; 0: one per physical core [default: 0]
    #[arg(long, env = "KINOFLOW_ORT_THREADS")]
    pub ort_threads: Option<usize>,
    /// Serve the compatible APIs (e.g. the biomechanics server's `/processar`) without a token, as the originals did [default: false]
    #[arg(long, env = "KINOFLOW_ALLOW_ANONYMOUS")]
    pub allow_anonymous: Option<bool>,
    /// Origins browser clients may call the API from, comma-separated, e.g. http://localhost:5173 [default: none]
    #[arg(long, env = "KINOFLOW_CORS_ORIGINS")]
    pub cors_origins: Option<String>,
    /// Socket.IO clients without a token hear every DeepEmotion video's id, status and progress, as the original web client expects [default: false]
    #[arg(long, env = "KINOFLOW_SOCKETIO_PUBLIC_PROGRESS")]
    pub socketio_public_progress: Option<bool>,
    /// The DeepEmotion API refuses videos longer than this many seconds (the original refused over 30) [default: no limit]
    #[arg(long, env = "KINOFLOW_DEEPEMOTION_MAX_DURATION_S")]
    pub deepemotion_max_duration_s: Option<f64>,
    /// The secret an external trainer sends (bearer token or ?token=) to the production-variables webhook /webhook/treinamento/ [default: none, the webhook refuses everyone]
    #[arg(long, env = "KINOFLOW_TRAINER_SECRET")]
    pub trainer_secret: Option<String>,
    /// The secret an external render worker sends (Authorization: Bearer) to ShortsAI's /api/webhooks/job-status [default: none, the webhook is off]
    #[arg(long, env = "KINOFLOW_WORKER_SECRET", hide_env_values = true)]
    pub worker_secret: Option<String>,
    /// An OpenAI-compatible AI API, up to its version, e.g. https://api.openai.com/v1 or http://localhost:11434/v1 (Ollama): writes scripts, draws pictures [default: none, no AI provider]
    #[arg(long, env = "KINOFLOW_AI_BASE_URL")]
    pub ai_base_url: Option<String>,
    /// The AI provider's API key, sent as a bearer token [default: none]
    #[arg(long, env = "KINOFLOW_AI_API_KEY", hide_env_values = true)]
    pub ai_api_key: Option<String>,
    /// The provider's model that writes scripts (chat completions, JSON mode) [default: gpt-4o-mini]
    #[arg(long, env = "KINOFLOW_AI_CHAT_MODEL")]
    pub ai_chat_model: Option<String>,
    /// The provider's model that draws pictures [default: gpt-image-1]
    #[arg(long, env = "KINOFLOW_AI_IMAGE_MODEL")]
    pub ai_image_model: Option<String>,
    /// The provider's model that speaks narration [default: none, narration is spoken by espeak-ng]
    #[arg(long, env = "KINOFLOW_AI_SPEECH_MODEL")]
    pub ai_speech_model: Option<String>,
    /// Seconds one request to the AI provider may take [default: 120]
    #[arg(long, env = "KINOFLOW_AI_TIMEOUT_S")]
    pub ai_timeout_s: Option<f64>,
    /// Accept webhook and callback URLs on loopback, private and link-local addresses [default: false]
    #[arg(long, env = "KINOFLOW_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: Option<bool>,
    /// First wait before a failed webhook or e-mail is sent again, in seconds; doubles each time, for 24 h [default: 5]
    #[arg(long, env = "KINOFLOW_NOTIFY_RETRY_BASE_S")]
    pub notify_retry_base_s: Option<f64>,
    /// SMTP server for notification mail: smtp://host:port, smtp://host?tls=required (STARTTLS) or smtps://host, with user:password@ if needed [default: no mail]
    #[arg(long, env = "KINOFLOW_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From address of notification mail
    #[arg(long, env = "KINOFLOW_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// PEM file of the authority that signed the SMTP server's certificate, when the public roots do not vouch for it [default: public roots only]
    #[arg(long, env = "KINOFLOW_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// How long the download link in a mail works, in seconds [default: 86400]
    #[arg(long, env = "KINOFLOW_MAIL_LINK_TTL_S")]
    pub mail_link_ttl_s: Option<u64>,
    /// The most pixels a video's picture may have (width × height) [default: 67108864, 8192×8192]
    #[arg(long, env = "KINOFLOW_MAX_VIDEO_PIXELS")]
    pub max_video_pixels: Option<u64>,
    /// The most frames one `frames` job may extract [default: 100000]
    #[arg(long, env = "KINOFLOW_MAX_FRAMES_PER_JOB")]
    pub max_frames_per_job: Option<u64>,
    /// HTTP connections served at once; more wait to be accepted [default: 1024]
    #[arg(long, env = "KINOFLOW_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Seconds a client may take to send a request's headers [default: 10]
    #[arg(long, env = "KINOFLOW_HEADER_READ_TIMEOUT_S")]
    pub header_read_timeout_s: Option<f64>,
    /// Seconds a connection may stay open with no request and no traffic [default: 60]
    #[arg(long, env = "KINOFLOW_IDLE_TIMEOUT_S")]
    pub idle_timeout_s: Option<f64>,
    /// The slowest a request body may arrive, in bytes a second on average, after the first 10 s [default: 1024]
    #[arg(long, env = "KINOFLOW_MIN_BODY_BYTES_PER_S")]
    pub min_body_bytes_per_s: Option<u64>,
    /// The most bytes one user may keep, uploads and job results together; an upload past it is refused (413) [default: no quota]
    #[arg(long, env = "KINOFLOW_USER_QUOTA_BYTES")]
    pub user_quota_bytes: Option<u64>,
    /// Days after which ended jobs (with their results) and uploads no running or waiting job uses are deleted [default: kept until deleted]
    #[arg(long, env = "KINOFLOW_RETENTION_DAYS")]
    pub retention_days: Option<f64>,
    /// Seconds between two sweeps for leftovers: temporary files, scratch of killed attempts, expired presigned uploads, data past retention [default: 3600]
    #[arg(long, env = "KINOFLOW_SWEEP_INTERVAL_S")]
    pub sweep_interval_s: Option<f64>,
    /// How long a presigned upload URL accepts the file, in seconds [default: 3600]
    #[arg(long, env = "KINOFLOW_PRESIGN_TTL_S")]
    pub presign_ttl_s: Option<u64>,
    /// A user's waiting jobs are not started while this many of theirs run [default: no cap]
    #[arg(long, env = "KINOFLOW_MAX_RUNNING_PER_USER")]
    pub max_running_per_user: Option<u32>,
    /// Seconds a job may run before it is stopped and failed [default: 21600]
    #[arg(long, env = "KINOFLOW_MAX_RUN_TIME_S")]
    pub max_run_time_s: Option<u64>,
    /// Offer the `sleep` pipeline, which only waits: for tests and benchmarks [default: false]
    #[arg(long, env = "KINOFLOW_TEST_PIPELINES")]
    pub test_pipelines: Option<bool>,
    /// Where backup archives are written and looked for [default: <data-dir>/backups]
    #[arg(long, env = "KINOFLOW_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    /// `serve` writes a backup this often, e.g. 6h, 30m, 1d, 90s [default: no scheduled backups]
    #[arg(long, env = "KINOFLOW_BACKUP_EVERY")]
    pub backup_every: Option<String>,
    /// Backup archives kept in the backup folder; older ones are deleted after each backup [default: 4]
    #[arg(long, env = "KINOFLOW_BACKUP_KEEP")]
    pub backup_keep: Option<usize>,
    /// Limits of their own for some pipelines, in seconds, by pipeline name;
    /// in the configuration file only (a table, so it comes last).
    #[arg(skip)]
    pub max_run_time_s_per_pipeline: Option<BTreeMap<String, u64>>,
}

impl RawSettings {
    /// These settings over those of the configuration file (`--config`, or
    /// `./kinoflow.toml` when it exists): what is set here wins.
    pub fn over_file(self) -> anyhow::Result<Self> {
        let default_file = Path::new(defaults::CONFIG_FILE);
        let file = match &self.config {
            Some(path) => Some(path.clone()),
            None => default_file.exists().then(|| default_file.to_owned()),
        };
        let Some(file) = file else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("could not read the configuration file {}", file.display()))?;
        // Read as settings first, so that a misspelt key is named in the error.
        let from_file: RawSettings = toml::from_str(&text)
            .with_context(|| format!("invalid configuration file {}", file.display()))?;
        let mut merged = toml::Table::try_from(&from_file)?;
        // Unset settings are left out of the table, so only what is set wins.
        merged.extend(toml::Table::try_from(&self)?);
        let mut settings: RawSettings = merged.try_into()?;
        settings.config = Some(file);
        Ok(settings)
    }
}
