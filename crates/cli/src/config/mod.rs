//! A node's one configuration: the settings given ([`RawSettings`]: the
//! file, `KINOFLOW_*` variables, flags) resolved into [`Config`], whose
//! sections hold every value with its default from [`defaults`] filled in.
//! Each crate's own configuration is built from it (see `parts`).

pub mod defaults;
mod parts;
mod raw;
mod secret;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

pub use raw::RawSettings;
pub use secret::Secret;

/// The longest a link in a mail may work: a year.
const MAX_LINK_TTL_S: u64 = 365 * 24 * 3600;
/// A century: more is a typing mistake.
const MAX_RETENTION_DAYS: f64 = 36_500.0;
/// A completion window longer than this would only hold results back.
const MAX_COMPLETION_WINDOW_MS: u64 = 60_000;
/// S3 refuses presigned URLs that last longer than a week.
const MAX_PRESIGN_TTL_S: u64 = 7 * 24 * 3600;
/// The longest run time limit: a year.
const MAX_RUN_TIME_S: u64 = 365 * 24 * 3600;

/// The effective configuration of a node. It prints (`--print-config`) as
/// the flat TOML a configuration file is written in, secrets masked.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    #[serde(flatten)]
    pub node: NodeConfig,
    #[serde(flatten)]
    pub auth: AuthConfig,
    #[serde(flatten)]
    pub uploads: UploadsConfig,
    #[serde(flatten)]
    pub connections: ConnectionsConfig,
    #[serde(flatten)]
    pub media: MediaConfig,
    #[serde(flatten)]
    pub inference: InferenceConfig,
    #[serde(flatten)]
    pub notify: NotifyConfig,
    #[serde(flatten)]
    pub compat: CompatConfig,
    #[serde(flatten)]
    pub ai: AiConfig,
    #[serde(flatten)]
    pub backup: BackupConfig,
    /// Last: its per-pipeline table must follow every plain key in TOML.
    #[serde(flatten)]
    pub jobs: JobsConfig,
}

/// Where the node listens and keeps its data.
#[derive(Debug, Clone, Serialize)]
pub struct NodeConfig {
    pub bind: String,
    pub data_dir: PathBuf,
    pub workers: usize,
    pub database_url: Secret,
    pub storage_url: String,
    pub public_url: Option<String>,
}

/// Accounts and tokens.
#[derive(Debug, Clone, Serialize)]
pub struct AuthConfig {
    /// Unset: generated once and kept in the data directory.
    pub jwt_secret: Option<Secret>,
    pub token_ttl_s: u64,
    pub login_attempts_per_minute: u32,
    pub login_attempts_per_address_per_minute: u32,
    pub registrations_per_address_per_minute: u32,
    pub allow_anonymous: bool,
}

/// What users may store, and for how long.
#[derive(Debug, Clone, Serialize)]
pub struct UploadsConfig {
    pub max_upload_bytes: u64,
    pub presign_ttl_s: u64,
    pub user_quota_bytes: Option<u64>,
    pub retention_days: Option<f64>,
    pub sweep_interval_s: f64,
}

/// What one HTTP client may hold of the server.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionsConfig {
    /// Comma-separated; empty: none.
    pub cors_origins: String,
    pub max_connections: usize,
    pub header_read_timeout_s: f64,
    pub idle_timeout_s: f64,
    pub min_body_bytes_per_s: u64,
}

/// How videos are read and how large they may be.
#[derive(Debug, Clone, Serialize)]
pub struct MediaConfig {
    pub hwaccel: Option<String>,
    pub models_dir: PathBuf,
    pub max_video_pixels: u64,
    pub max_frames_per_job: u64,
}

/// What runs the models.
#[derive(Debug, Clone, Serialize)]
pub struct InferenceConfig {
    /// `auto`, `ort` or `tract`.
    pub inference: String,
    pub ort_library: PathBuf,
    /// Comma-separated, in order of preference.
    pub ort_providers: String,
    pub ort_threads: usize,
}

/// Webhooks and mail.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyConfig {
    pub webhook_allow_private: bool,
    pub notify_retry_base_s: f64,
    pub smtp_url: Option<Secret>,
    pub mail_from: Option<String>,
    pub smtp_ca_file: Option<PathBuf>,
    pub mail_link_ttl_s: u64,
}

/// How the compatible APIs differ from the originals, where the operator
/// chooses.
#[derive(Debug, Clone, Serialize)]
pub struct CompatConfig {
    pub socketio_public_progress: bool,
    pub deepemotion_max_duration_s: Option<f64>,
    pub trainer_secret: Option<Secret>,
    pub worker_secret: Option<Secret>,
}

/// The AI provider: none unless its URL is set.
#[derive(Debug, Clone, Serialize)]
pub struct AiConfig {
    pub ai_base_url: Option<String>,
    pub ai_api_key: Option<Secret>,
    pub ai_chat_model: String,
    pub ai_image_model: String,
    pub ai_speech_model: Option<String>,
    pub ai_timeout_s: f64,
}

/// Where backups go, and how often `serve` writes one.
#[derive(Debug, Clone, Serialize)]
pub struct BackupConfig {
    pub backup_dir: PathBuf,
    /// As given (`6h`); unset: no schedule.
    pub backup_every: Option<String>,
    pub backup_keep: usize,
}

/// How jobs run: leases, retries, limits.
#[derive(Debug, Clone, Serialize)]
pub struct JobsConfig {
    pub lease_ttl_s: f64,
    pub completion_window_ms: u64,
    pub max_attempts: i64,
    pub retry_base_s: f64,
    pub shutdown_grace_s: f64,
    pub max_running_per_user: Option<u32>,
    pub max_run_time_s: u64,
    pub test_pipelines: bool,
    pub max_run_time_s_per_pipeline: BTreeMap<String, u64>,
}

impl Config {
    /// The settings given, over the configuration file, with defaults filled
    /// in and every value checked.
    pub fn load(given: RawSettings) -> anyhow::Result<Self> {
        let config = Self::resolve(given.over_file()?);
        config.check()?;
        Ok(config)
    }

    fn resolve(raw: RawSettings) -> Self {
        let data_dir = raw
            .data_dir
            .unwrap_or_else(|| PathBuf::from(defaults::DATA_DIR));
        let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
        let backup_dir = raw
            .backup_dir
            .unwrap_or_else(|| defaults::backup_dir(&data_dir));
        Self {
            node: NodeConfig {
                bind: raw.bind.unwrap_or_else(|| defaults::BIND.to_owned()),
                workers: raw.workers.unwrap_or_else(defaults::workers),
                database_url: Secret::new(
                    raw.database_url
                        .unwrap_or_else(|| defaults::database_url(&data_dir)),
                ),
                storage_url: raw
                    .storage_url
                    .unwrap_or_else(|| defaults::storage_url(&data_dir)),
                public_url: non_empty(raw.public_url),
                data_dir,
            },
            auth: AuthConfig {
                jwt_secret: raw.jwt_secret.map(Secret::new),
                token_ttl_s: raw.token_ttl_s.unwrap_or(defaults::TOKEN_TTL_S),
                login_attempts_per_minute: raw
                    .login_attempts_per_minute
                    .unwrap_or(defaults::LOGIN_ATTEMPTS_PER_MINUTE),
                login_attempts_per_address_per_minute: raw
                    .login_attempts_per_address_per_minute
                    .unwrap_or(defaults::LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE),
                registrations_per_address_per_minute: raw
                    .registrations_per_address_per_minute
                    .unwrap_or(defaults::REGISTRATIONS_PER_ADDRESS_PER_MINUTE),
                allow_anonymous: raw.allow_anonymous.unwrap_or(defaults::ALLOW_ANONYMOUS),
            },
            uploads: UploadsConfig {
                max_upload_bytes: raw.max_upload_bytes.unwrap_or(defaults::MAX_UPLOAD_BYTES),
                presign_ttl_s: raw.presign_ttl_s.unwrap_or(defaults::PRESIGN_TTL_S),
                user_quota_bytes: raw.user_quota_bytes,
                retention_days: raw.retention_days,
                sweep_interval_s: raw.sweep_interval_s.unwrap_or(defaults::SWEEP_INTERVAL_S),
            },
            connections: ConnectionsConfig {
                cors_origins: raw.cors_origins.unwrap_or_default(),
                max_connections: raw.max_connections.unwrap_or(defaults::MAX_CONNECTIONS),
                header_read_timeout_s: raw
                    .header_read_timeout_s
                    .unwrap_or(defaults::HEADER_READ_TIMEOUT_S),
                idle_timeout_s: raw.idle_timeout_s.unwrap_or(defaults::IDLE_TIMEOUT_S),
                min_body_bytes_per_s: raw
                    .min_body_bytes_per_s
                    .unwrap_or(defaults::MIN_BODY_BYTES_PER_S),
            },
            media: MediaConfig {
                hwaccel: non_empty(raw.hwaccel),
                models_dir: raw.models_dir.unwrap_or_else(defaults::models_dir),
                max_video_pixels: raw.max_video_pixels.unwrap_or(defaults::MAX_VIDEO_PIXELS),
                max_frames_per_job: raw
                    .max_frames_per_job
                    .unwrap_or(defaults::MAX_FRAMES_PER_JOB),
            },
            inference: InferenceConfig {
                inference: raw
                    .inference
                    .unwrap_or_else(|| defaults::INFERENCE.to_owned()),
                ort_library: raw
                    .ort_library
                    .unwrap_or_else(kinoflow_vision::inference::default_ort_library),
                ort_providers: raw
                    .ort_providers
                    .unwrap_or_else(|| defaults::ORT_PROVIDERS.to_owned()),
                ort_threads: raw.ort_threads.unwrap_or(defaults::ORT_THREADS),
            },
            notify: NotifyConfig {
                webhook_allow_private: raw
                    .webhook_allow_private
                    .unwrap_or(defaults::WEBHOOK_ALLOW_PRIVATE),
                notify_retry_base_s: raw
                    .notify_retry_base_s
                    .unwrap_or(defaults::NOTIFY_RETRY_BASE_S),
                smtp_url: non_empty(raw.smtp_url).map(Secret::new),
                mail_from: non_empty(raw.mail_from),
                smtp_ca_file: raw.smtp_ca_file,
                mail_link_ttl_s: raw.mail_link_ttl_s.unwrap_or(defaults::MAIL_LINK_TTL_S),
            },
            compat: CompatConfig {
                socketio_public_progress: raw
                    .socketio_public_progress
                    .unwrap_or(defaults::SOCKETIO_PUBLIC_PROGRESS),
                deepemotion_max_duration_s: raw.deepemotion_max_duration_s,
                trainer_secret: non_empty(raw.trainer_secret).map(Secret::new),
                worker_secret: non_empty(raw.worker_secret).map(Secret::new),
            },
            ai: AiConfig {
                ai_base_url: non_empty(raw.ai_base_url),
                ai_api_key: non_empty(raw.ai_api_key).map(Secret::new),
                ai_chat_model: raw
                    .ai_chat_model
                    .unwrap_or_else(|| defaults::AI_CHAT_MODEL.to_owned()),
                ai_image_model: raw
                    .ai_image_model
                    .unwrap_or_else(|| defaults::AI_IMAGE_MODEL.to_owned()),
                ai_speech_model: non_empty(raw.ai_speech_model),
                ai_timeout_s: raw.ai_timeout_s.unwrap_or(defaults::AI_TIMEOUT_S),
            },
            backup: BackupConfig {
                backup_dir,
                backup_every: non_empty(raw.backup_every),
                backup_keep: raw.backup_keep.unwrap_or(defaults::BACKUP_KEEP),
            },
            jobs: JobsConfig {
                lease_ttl_s: raw.lease_ttl_s.unwrap_or(defaults::LEASE_TTL_S),
                completion_window_ms: raw
                    .completion_window_ms
                    .unwrap_or(defaults::COMPLETION_WINDOW_MS),
                max_attempts: raw.max_attempts.unwrap_or(defaults::MAX_ATTEMPTS),
                retry_base_s: raw.retry_base_s.unwrap_or(defaults::RETRY_BASE_S),
                shutdown_grace_s: raw.shutdown_grace_s.unwrap_or(defaults::SHUTDOWN_GRACE_S),
                max_running_per_user: raw.max_running_per_user,
                max_run_time_s: raw.max_run_time_s.unwrap_or(defaults::MAX_RUN_TIME_S),
                test_pipelines: raw.test_pipelines.unwrap_or(defaults::TEST_PIPELINES),
                max_run_time_s_per_pipeline: raw.max_run_time_s_per_pipeline.unwrap_or_default(),
            },
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        self.check_durations()?;
        self.check_limits()?;
        self.check_mail()?;
        self.cors_origins()?;
        self.backup_schedule()?;
        self.inference_settings().map(drop)
    }

    fn check_durations(&self) -> anyhow::Result<()> {
        let (jobs, uploads) = (&self.jobs, &self.uploads);
        if jobs.completion_window_ms > MAX_COMPLETION_WINDOW_MS {
            bail!("completion_window_ms must be at most {MAX_COMPLETION_WINDOW_MS}");
        }
        for (name, seconds) in [
            ("lease_ttl_s", jobs.lease_ttl_s),
            ("retry_base_s", jobs.retry_base_s),
            ("shutdown_grace_s", jobs.shutdown_grace_s),
            ("notify_retry_base_s", self.notify.notify_retry_base_s),
            (
                "header_read_timeout_s",
                self.connections.header_read_timeout_s,
            ),
            ("idle_timeout_s", self.connections.idle_timeout_s),
            ("sweep_interval_s", uploads.sweep_interval_s),
            ("ai_timeout_s", self.ai.ai_timeout_s),
        ] {
            if !(0.0..=1e7).contains(&seconds) {
                bail!("{name} must be a number of seconds between 0 and 10000000");
            }
        }
        for (name, seconds, least) in [
            ("lease_ttl_s", jobs.lease_ttl_s, 1.0),
            ("sweep_interval_s", uploads.sweep_interval_s, 0.1),
            ("notify_retry_base_s", self.notify.notify_retry_base_s, 0.01),
            (
                "header_read_timeout_s",
                self.connections.header_read_timeout_s,
                0.1,
            ),
            ("idle_timeout_s", self.connections.idle_timeout_s, 0.1),
        ] {
            if seconds < least {
                bail!("{name} must be at least {least} seconds");
            }
        }
        if self
            .compat
            .deepemotion_max_duration_s
            .is_some_and(|seconds| !(seconds > 0.0 && seconds <= 1e7))
        {
            bail!("deepemotion_max_duration_s must be a number of seconds above 0 and at most 10000000");
        }
        if uploads
            .retention_days
            .is_some_and(|days| !(days > 0.0 && days <= MAX_RETENTION_DAYS))
        {
            bail!("retention_days must be above 0 and at most {MAX_RETENTION_DAYS}");
        }
        if !(1..=MAX_PRESIGN_TTL_S).contains(&uploads.presign_ttl_s) {
            bail!("presign_ttl_s must be between 1 second and {MAX_PRESIGN_TTL_S} (a week)");
        }
        if !(1..=MAX_LINK_TTL_S).contains(&self.notify.mail_link_ttl_s) {
            bail!("mail_link_ttl_s must be between 1 second and {MAX_LINK_TTL_S} (a year)");
        }
        let run_time_limits =
            std::iter::once(&jobs.max_run_time_s).chain(jobs.max_run_time_s_per_pipeline.values());
        for limit in run_time_limits {
            if !(1..=MAX_RUN_TIME_S).contains(limit) {
                bail!("run time limits must be between 1 second and {MAX_RUN_TIME_S} (a year)");
            }
        }
        Ok(())
    }

    fn check_limits(&self) -> anyhow::Result<()> {
        if self.jobs.max_attempts < 1 {
            bail!("max_attempts must be at least 1");
        }
        if self.media.max_video_pixels == 0 || self.media.max_frames_per_job == 0 {
            bail!("max_video_pixels and max_frames_per_job must be at least 1");
        }
        if self.connections.max_connections == 0 {
            bail!("max_connections must be at least 1");
        }
        if self.jobs.max_running_per_user == Some(0) {
            bail!("max_running_per_user must be at least 1 (leave it unset for no cap)");
        }
        Ok(())
    }

    fn check_mail(&self) -> anyhow::Result<()> {
        let notify = &self.notify;
        if notify.smtp_url.is_some() && notify.mail_from.is_none() {
            bail!("smtp_url needs mail_from (KINOFLOW_MAIL_FROM), the address mail is sent from");
        }
        if notify.smtp_ca_file.is_some() && notify.smtp_url.is_none() {
            bail!("smtp_ca_file is for the SMTP server in smtp_url (KINOFLOW_SMTP_URL), which is not set");
        }
        if notify.smtp_url.is_some() && self.node.public_url.is_none() {
            bail!("smtp_url needs public_url (KINOFLOW_PUBLIC_URL): the links in mails are built from it");
        }
        Ok(())
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string(self)?)
    }
}

/// A number of seconds from the configuration as a duration.
pub fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_file(text: &str, flags: RawSettings) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kinoflow.toml");
        std::fs::write(&file, text).unwrap();
        Config::load(RawSettings {
            config: Some(file),
            ..flags
        })
    }

    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() {
        let flags = RawSettings {
            workers: Some(5),
            ..RawSettings::default()
        };
        let config = load_file("bind = \"0.0.0.0:9000\"\nworkers = 3\n", flags).unwrap();
        assert_eq!(config.node.bind, "0.0.0.0:9000");
        assert_eq!(config.node.workers, 5);
        assert_eq!(config.jobs.lease_ttl_s, defaults::LEASE_TTL_S);
    }

    #[test]
    fn secrets_are_masked() {
        let config = Config::load(RawSettings {
            jwt_secret: Some("hunter2hunter2".to_owned()),
            database_url: Some("postgres://kino:pw@db/kino".to_owned()),
            ..RawSettings::default()
        })
        .unwrap();
        let shown = config.to_masked_toml().unwrap();
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains(":pw@"));
        assert!(shown.contains("postgres://kino:********@db/kino"));
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn an_smtp_password_with_an_at_sign_is_masked_whole() {
        let config = Config::load(RawSettings {
            smtp_url: Some("smtps://mailer:p@ss@mail.example.com".to_owned()),
            mail_from: Some("kinoflow@example.com".to_owned()),
            public_url: Some("https://kinoflow.example.com".to_owned()),
            ..RawSettings::default()
        })
        .unwrap();
        let shown = config.to_masked_toml().unwrap();
        assert!(!shown.contains("ss@"), "{shown}");
        assert!(
            shown.contains("smtps://mailer:********@mail.example.com"),
            "{shown}"
        );
    }

    #[test]
    fn run_time_limits_per_pipeline_come_from_the_file() {
        let limits = "max_run_time_s = 7200\n[max_run_time_s_per_pipeline]\nframes = 600\n";
        let config = load_file(limits, RawSettings::default()).unwrap();
        assert_eq!(config.jobs.max_run_time_s, 7200);
        let shown = config.to_masked_toml().unwrap();
        assert!(
            shown.contains("[max_run_time_s_per_pipeline]\nframes = 600"),
            "{shown}"
        );
        let zero = load_file(
            "[max_run_time_s_per_pipeline]\nframes = 0\n",
            RawSettings::default(),
        );
        assert!(zero.is_err());
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let err = load_file("bnid = \"x\"\n", RawSettings::default()).unwrap_err();
        assert!(format!("{err:#}").contains("bnid"), "{err:#}");
    }
}
