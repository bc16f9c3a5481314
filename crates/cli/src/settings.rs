//! Configuration in one place: defaults, then a TOML file, then `KINOFLOW_*`
//! environment variables, then flags (clap reads the last two together).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use serde::{Deserialize, Serialize};

/// Every setting of `kinoflow serve`. Each may come from a flag, from its
/// `KINOFLOW_*` variable, or from the configuration file.
#[derive(Debug, Clone, Default, Args, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
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
    /// Serve the compatible APIs (e.g. the biomechanics server's `/processar`) without a token, as the originals did [default: false]
    #[arg(long, env = "KINOFLOW_ALLOW_ANONYMOUS")]
    pub allow_anonymous: Option<bool>,
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
    /// Limits of their own for some pipelines, in seconds, by pipeline name;
    /// in the configuration file only (a table, so it comes last).
    #[arg(skip)]
    pub max_run_time_s_per_pipeline: Option<BTreeMap<String, u64>>,
}

const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The longest a link in a mail may work: a year.
const MAX_LINK_TTL_S: u64 = 365 * 24 * 3600;
const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// A century: more is a typing mistake.
const MAX_RETENTION_DAYS: f64 = 36_500.0;
/// S3 refuses presigned URLs that last longer than a week.
const MAX_PRESIGN_TTL_S: u64 = 7 * 24 * 3600;
/// Six hours: far more than any analysis of a video within the upload limit needs.
const DEFAULT_MAX_RUN_TIME_S: u64 = 6 * 3600;
/// The longest run time limit: a year.
const MAX_RUN_TIME_S: u64 = 365 * 24 * 3600;
const MASK: &str = "********";

impl Settings {
    /// Fills what flags and environment left unset from the file at `path`.
    pub fn with_file(self, path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the configuration file {}", path.display()))?;
        let file: Settings = toml::from_str(&text)
            .with_context(|| format!("invalid configuration file {}", path.display()))?;
        Ok(self.or(file))
    }

    fn or(self, file: Settings) -> Self {
        Self {
            bind: self.bind.or(file.bind),
            data_dir: self.data_dir.or(file.data_dir),
            workers: self.workers.or(file.workers),
            database_url: self.database_url.or(file.database_url),
            storage_url: self.storage_url.or(file.storage_url),
            jwt_secret: self.jwt_secret.or(file.jwt_secret),
            token_ttl_s: self.token_ttl_s.or(file.token_ttl_s),
            max_upload_bytes: self.max_upload_bytes.or(file.max_upload_bytes),
            lease_ttl_s: self.lease_ttl_s.or(file.lease_ttl_s),
            max_attempts: self.max_attempts.or(file.max_attempts),
            retry_base_s: self.retry_base_s.or(file.retry_base_s),
            shutdown_grace_s: self.shutdown_grace_s.or(file.shutdown_grace_s),
            login_attempts_per_minute: self
                .login_attempts_per_minute
                .or(file.login_attempts_per_minute),
            login_attempts_per_address_per_minute: self
                .login_attempts_per_address_per_minute
                .or(file.login_attempts_per_address_per_minute),
            registrations_per_address_per_minute: self
                .registrations_per_address_per_minute
                .or(file.registrations_per_address_per_minute),
            hwaccel: self.hwaccel.or(file.hwaccel),
            models_dir: self.models_dir.or(file.models_dir),
            allow_anonymous: self.allow_anonymous.or(file.allow_anonymous),
            public_url: self.public_url.or(file.public_url),
            webhook_allow_private: self.webhook_allow_private.or(file.webhook_allow_private),
            notify_retry_base_s: self.notify_retry_base_s.or(file.notify_retry_base_s),
            smtp_url: self.smtp_url.or(file.smtp_url),
            mail_from: self.mail_from.or(file.mail_from),
            smtp_ca_file: self.smtp_ca_file.or(file.smtp_ca_file),
            mail_link_ttl_s: self.mail_link_ttl_s.or(file.mail_link_ttl_s),
            max_video_pixels: self.max_video_pixels.or(file.max_video_pixels),
            max_frames_per_job: self.max_frames_per_job.or(file.max_frames_per_job),
            max_connections: self.max_connections.or(file.max_connections),
            header_read_timeout_s: self.header_read_timeout_s.or(file.header_read_timeout_s),
            idle_timeout_s: self.idle_timeout_s.or(file.idle_timeout_s),
            min_body_bytes_per_s: self.min_body_bytes_per_s.or(file.min_body_bytes_per_s),
            user_quota_bytes: self.user_quota_bytes.or(file.user_quota_bytes),
            retention_days: self.retention_days.or(file.retention_days),
            sweep_interval_s: self.sweep_interval_s.or(file.sweep_interval_s),
            presign_ttl_s: self.presign_ttl_s.or(file.presign_ttl_s),
            max_running_per_user: self.max_running_per_user.or(file.max_running_per_user),
            max_run_time_s: self.max_run_time_s.or(file.max_run_time_s),
            max_run_time_s_per_pipeline: self
                .max_run_time_s_per_pipeline
                .or(file.max_run_time_s_per_pipeline),
        }
    }

    /// Every setting with its default filled in; the secret stays as given.
    pub fn resolved(self) -> anyhow::Result<Self> {
        let data_dir = self.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let connections = kinoflow_server::ConnectionLimits::default();
        let resolved =
            Self {
                bind: Some(self.bind.unwrap_or_else(|| DEFAULT_BIND.to_owned())),
                workers: Some(self.workers.unwrap_or_else(|| {
                    std::thread::available_parallelism()
                        .map(|n| n.get())
                        .unwrap_or(1)
                })),
                database_url: Some(self.database_url.unwrap_or_else(|| {
                    format!("sqlite://{}", data_dir.join("kinoflow.db").display())
                })),
                storage_url: Some(
                    self.storage_url
                        .unwrap_or_else(|| data_dir.join("blobs").display().to_string()),
                ),
                jwt_secret: self.jwt_secret,
                token_ttl_s: Some(self.token_ttl_s.unwrap_or(3600)),
                max_upload_bytes: Some(self.max_upload_bytes.unwrap_or(DEFAULT_MAX_UPLOAD_BYTES)),
                lease_ttl_s: Some(self.lease_ttl_s.unwrap_or(30.0)),
                max_attempts: Some(self.max_attempts.unwrap_or(3)),
                retry_base_s: Some(self.retry_base_s.unwrap_or(1.0)),
                shutdown_grace_s: Some(self.shutdown_grace_s.unwrap_or(30.0)),
                login_attempts_per_minute: Some(self.login_attempts_per_minute.unwrap_or(10)),
                login_attempts_per_address_per_minute: Some(
                    self.login_attempts_per_address_per_minute.unwrap_or(60),
                ),
                registrations_per_address_per_minute: Some(
                    self.registrations_per_address_per_minute.unwrap_or(20),
                ),
                hwaccel: self.hwaccel.filter(|method| !method.is_empty()),
                models_dir: self.models_dir,
                allow_anonymous: Some(self.allow_anonymous.unwrap_or(false)),
                public_url: self.public_url.filter(|url| !url.is_empty()),
                webhook_allow_private: Some(self.webhook_allow_private.unwrap_or(false)),
                notify_retry_base_s: Some(self.notify_retry_base_s.unwrap_or(5.0)),
                smtp_url: self.smtp_url.filter(|url| !url.is_empty()),
                mail_from: self.mail_from.filter(|from| !from.is_empty()),
                smtp_ca_file: self.smtp_ca_file,
                mail_link_ttl_s: Some(self.mail_link_ttl_s.unwrap_or(24 * 3600)),
                max_video_pixels: Some(
                    self.max_video_pixels
                        .unwrap_or(kinoflow_pipelines::DEFAULT_MAX_PIXELS),
                ),
                max_frames_per_job: Some(
                    self.max_frames_per_job
                        .unwrap_or(kinoflow_pipelines::DEFAULT_MAX_FRAMES),
                ),
                max_connections: Some(self.max_connections.unwrap_or(connections.max_connections)),
                header_read_timeout_s: Some(
                    self.header_read_timeout_s
                        .unwrap_or(connections.header_read_timeout.as_secs_f64()),
                ),
                idle_timeout_s: Some(
                    self.idle_timeout_s
                        .unwrap_or(connections.idle_timeout.as_secs_f64()),
                ),
                min_body_bytes_per_s: Some(
                    self.min_body_bytes_per_s
                        .unwrap_or(connections.min_body_bytes_per_s),
                ),
                user_quota_bytes: self.user_quota_bytes,
                retention_days: self.retention_days,
                sweep_interval_s: Some(self.sweep_interval_s.unwrap_or(3600.0)),
                presign_ttl_s: Some(self.presign_ttl_s.unwrap_or(3600)),
                max_running_per_user: self.max_running_per_user,
                max_run_time_s: Some(self.max_run_time_s.unwrap_or(DEFAULT_MAX_RUN_TIME_S)),
                max_run_time_s_per_pipeline: self.max_run_time_s_per_pipeline,
                data_dir: Some(data_dir),
            };
        resolved.check()?;
        Ok(resolved)
    }

    fn check(&self) -> anyhow::Result<()> {
        for (name, seconds) in [
            ("lease_ttl_s", self.lease_ttl_s),
            ("retry_base_s", self.retry_base_s),
            ("shutdown_grace_s", self.shutdown_grace_s),
            ("notify_retry_base_s", self.notify_retry_base_s),
            ("header_read_timeout_s", self.header_read_timeout_s),
            ("idle_timeout_s", self.idle_timeout_s),
            ("sweep_interval_s", self.sweep_interval_s),
        ] {
            if seconds.is_some_and(|s| !(0.0..=1e7).contains(&s)) {
                bail!("{name} must be a number of seconds between 0 and 10000000");
            }
        }
        if self.lease_ttl_s.is_some_and(|s| s < 1.0) {
            bail!("lease_ttl_s must be at least 1 second");
        }
        if self.sweep_interval_s.is_some_and(|s| s < 0.1) {
            bail!("sweep_interval_s must be at least 0.1 seconds");
        }
        if self
            .retention_days
            .is_some_and(|days| !(days > 0.0 && days <= MAX_RETENTION_DAYS))
        {
            bail!("retention_days must be above 0 and at most {MAX_RETENTION_DAYS}");
        }
        if self
            .presign_ttl_s
            .is_some_and(|s| !(1..=MAX_PRESIGN_TTL_S).contains(&s))
        {
            bail!("presign_ttl_s must be between 1 second and {MAX_PRESIGN_TTL_S} (a week)");
        }
        if self.max_attempts.is_some_and(|n| n < 1) {
            bail!("max_attempts must be at least 1");
        }
        if self.notify_retry_base_s.is_some_and(|s| s < 0.01) {
            bail!("notify_retry_base_s must be at least 0.01 seconds");
        }
        if self
            .mail_link_ttl_s
            .is_some_and(|s| !(1..=MAX_LINK_TTL_S).contains(&s))
        {
            bail!("mail_link_ttl_s must be between 1 second and {MAX_LINK_TTL_S} (a year)");
        }
        if self.max_video_pixels == Some(0) || self.max_frames_per_job == Some(0) {
            bail!("max_video_pixels and max_frames_per_job must be at least 1");
        }
        if self.max_connections == Some(0) {
            bail!("max_connections must be at least 1");
        }
        for (name, seconds) in [
            ("header_read_timeout_s", self.header_read_timeout_s),
            ("idle_timeout_s", self.idle_timeout_s),
        ] {
            if seconds.is_some_and(|s| s < 0.1) {
                bail!("{name} must be at least 0.1 seconds");
            }
        }
        if self.max_running_per_user == Some(0) {
            bail!("max_running_per_user must be at least 1 (leave it unset for no cap)");
        }
        let run_time_limits = self.max_run_time_s.iter().chain(
            self.max_run_time_s_per_pipeline
                .iter()
                .flat_map(|limits| limits.values()),
        );
        for limit in run_time_limits {
            if !(1..=MAX_RUN_TIME_S).contains(limit) {
                bail!("run time limits must be between 1 second and {MAX_RUN_TIME_S} (a year)");
            }
        }
        if self.smtp_url.is_some() && self.mail_from.is_none() {
            bail!("smtp_url needs mail_from (KINOFLOW_MAIL_FROM), the address mail is sent from");
        }
        if self.smtp_ca_file.is_some() && self.smtp_url.is_none() {
            bail!("smtp_ca_file is for the SMTP server in smtp_url (KINOFLOW_SMTP_URL), which is not set");
        }
        if self.smtp_url.is_some() && self.public_url.is_none() {
            bail!("smtp_url needs public_url (KINOFLOW_PUBLIC_URL): the links in mails are built from it");
        }
        Ok(())
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> anyhow::Result<String> {
        let mut shown = self.clone();
        if shown.jwt_secret.is_some() {
            shown.jwt_secret = Some(MASK.to_owned());
        }
        shown.database_url = shown.database_url.map(|url| mask_url_password(&url));
        shown.smtp_url = shown.smtp_url.map(|url| mask_url_password(&url));
        Ok(toml::to_string(&shown)?)
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.as_deref().unwrap_or(Path::new("./data"))
    }

    pub fn seconds(value: Option<f64>) -> Duration {
        Duration::from_secs_f64(value.unwrap_or(0.0))
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:********@host/db`.
fn mask_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The last '@': a password may hold one; masking too much is harmless.
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:{MASK}@{host}"),
        None => url.to_owned(),
    }
}

impl Settings {
    /// What the pipelines need from these settings.
    pub fn pipeline_options(&self) -> kinoflow_pipelines::PipelineOptions {
        kinoflow_pipelines::PipelineOptions {
            hwaccel: self.hwaccel.clone(),
            models_dir: self
                .models_dir
                .clone()
                .unwrap_or_else(kinoflow_pipelines::bundled_models_dir),
            limits: self.video_limits(),
        }
    }

    /// How many connections, and how slow a client may be.
    pub fn connection_limits(&self) -> kinoflow_server::ConnectionLimits {
        let defaults = kinoflow_server::ConnectionLimits::default();
        let seconds =
            |value: Option<f64>, default: Duration| value.map_or(default, Duration::from_secs_f64);
        kinoflow_server::ConnectionLimits {
            max_connections: self.max_connections.unwrap_or(defaults.max_connections),
            header_read_timeout: seconds(self.header_read_timeout_s, defaults.header_read_timeout),
            idle_timeout: seconds(self.idle_timeout_s, defaults.idle_timeout),
            min_body_bytes_per_s: self
                .min_body_bytes_per_s
                .unwrap_or(defaults.min_body_bytes_per_s),
            body_grace: defaults.body_grace,
        }
    }

    /// How large a video and how much work one job may be.
    pub fn video_limits(&self) -> kinoflow_pipelines::VideoLimits {
        let defaults = kinoflow_pipelines::VideoLimits::default();
        kinoflow_pipelines::VideoLimits {
            max_pixels: self.max_video_pixels.unwrap_or(defaults.max_pixels),
            max_frames: self.max_frames_per_job.unwrap_or(defaults.max_frames),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kinoflow.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\nworkers = 3\n").unwrap();
        let flags = Settings {
            workers: Some(5),
            ..Settings::default()
        };
        let settings = flags.with_file(Some(&file)).unwrap().resolved().unwrap();
        assert_eq!(settings.bind.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(settings.workers, Some(5));
        assert_eq!(settings.lease_ttl_s, Some(30.0));
    }

    #[test]
    fn secrets_are_masked() {
        let settings = Settings {
            jwt_secret: Some("hunter2hunter2".to_owned()),
            database_url: Some("postgres://kino:pw@db/kino".to_owned()),
            ..Settings::default()
        };
        let shown = settings.resolved().unwrap().to_masked_toml().unwrap();
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains(":pw@"));
        assert!(shown.contains("postgres://kino:********@db/kino"));
    }

    #[test]
    fn an_smtp_password_with_an_at_sign_is_masked_whole() {
        let settings = Settings {
            smtp_url: Some("smtps://mailer:p@ss@mail.example.com".to_owned()),
            mail_from: Some("kinoflow@example.com".to_owned()),
            public_url: Some("https://kinoflow.example.com".to_owned()),
            ..Settings::default()
        };
        let shown = settings.resolved().unwrap().to_masked_toml().unwrap();
        assert!(!shown.contains("ss@"), "{shown}");
        assert!(
            shown.contains("smtps://mailer:********@mail.example.com"),
            "{shown}"
        );
    }

    #[test]
    fn run_time_limits_per_pipeline_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kinoflow.toml");
        let limits = "max_run_time_s = 7200\n[max_run_time_s_per_pipeline]\nframes = 600\n";
        std::fs::write(&file, limits).unwrap();
        let settings = Settings::default()
            .with_file(Some(&file))
            .unwrap()
            .resolved()
            .unwrap();
        assert_eq!(settings.max_run_time_s, Some(7200));
        let shown = settings.to_masked_toml().unwrap();
        assert!(
            shown.contains("[max_run_time_s_per_pipeline]\nframes = 600"),
            "{shown}"
        );
        std::fs::write(&file, "[max_run_time_s_per_pipeline]\nframes = 0\n").unwrap();
        let zero = Settings::default()
            .with_file(Some(&file))
            .unwrap()
            .resolved();
        assert!(zero.is_err());
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kinoflow.toml");
        std::fs::write(&file, "bnid = \"x\"\n").unwrap();
        let err = Settings::default().with_file(Some(&file)).unwrap_err();
        assert!(format!("{err:#}").contains("bnid"), "{err:#}");
    }
}
