//! Each crate's own configuration, built from the node's [`Config`] only.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use kinoflow_ai::AiSettings;
use kinoflow_engine::{EngineConfig, SweeperConfig};
use kinoflow_notify::{MailSettings, NotifierConfig};
use kinoflow_pipelines::{PipelineOptions, VideoLimits};
use kinoflow_server::{parse_origin, AuthQuotas, CompatSettings, ConnectionLimits, ServerConfig};
use kinoflow_vision::inference::{parse_providers, InferenceSettings};
use kinoflow_vision::Runtime;
use reqwest::header::HeaderValue;

use super::{seconds, Config};
use crate::backup::schedule::BackupSchedule;
use crate::backup::Deployment;

/// How often a node looks at the outbox while nothing is due there.
const OUTBOX_POLL_INTERVAL: Duration = Duration::from_millis(500);
const DAY_S: f64 = 24.0 * 3600.0;

impl Config {
    /// The database and storage this node runs on, as backups see them.
    pub fn deployment(&self) -> anyhow::Result<Deployment> {
        Deployment::new(self.node.database_url.expose(), &self.node.storage_url)
    }

    /// When `serve` writes backups; `None` without `backup_every`.
    pub fn backup_schedule(&self) -> anyhow::Result<Option<BackupSchedule>> {
        let backup = &self.backup;
        if backup.backup_keep == 0 {
            bail!("backup_keep must be at least 1");
        }
        let Some(every) = &backup.backup_every else {
            return Ok(None);
        };
        Ok(Some(BackupSchedule {
            every: parse_interval(every)
                .with_context(|| format!("backup_every {every:?} is not a duration"))?,
            dir: backup.backup_dir.clone(),
            keep: backup.backup_keep,
        }))
    }

    /// What the pipelines need, with the models run by `inference`.
    pub fn pipeline_options(&self, inference: Runtime) -> PipelineOptions {
        PipelineOptions {
            hwaccel: self.media.hwaccel.clone(),
            models_dir: self.media.models_dir.clone(),
            inference,
            limits: self.video_limits(),
            ai: self.ai_settings(),
            test_pipelines: self.jobs.test_pipelines,
        }
    }

    /// What decides how models run; each value is checked.
    pub fn inference_settings(&self) -> anyhow::Result<InferenceSettings> {
        let inference = &self.inference;
        Ok(InferenceSettings {
            choice: inference.inference.parse().map_err(anyhow::Error::msg)?,
            ort_library: inference.ort_library.clone(),
            providers: parse_providers(&inference.ort_providers).map_err(anyhow::Error::msg)?,
            threads: inference.ort_threads,
        })
    }

    /// How large a video and how much work one job may be.
    pub fn video_limits(&self) -> VideoLimits {
        VideoLimits {
            max_pixels: self.media.max_video_pixels,
            max_frames: self.media.max_frames_per_job,
        }
    }

    /// How the engine runs jobs, with scratch space under `data_dir`;
    /// `pipelines` are the names run time limits may be given for.
    pub fn engine_config(&self, pipelines: &[String]) -> anyhow::Result<EngineConfig> {
        let jobs = &self.jobs;
        let mut config = EngineConfig::new(self.node.data_dir.join("scratch"));
        config.lease_ttl = seconds(jobs.lease_ttl_s);
        config.completion_window = Duration::from_millis(jobs.completion_window_ms);
        config.max_attempts = jobs.max_attempts;
        config.retry_base_delay = seconds(jobs.retry_base_s);
        config.shutdown_grace = seconds(jobs.shutdown_grace_s);
        config.max_running_per_user = jobs.max_running_per_user;
        config.max_run_time = Duration::from_secs(jobs.max_run_time_s);
        config.max_run_time_by_pipeline = self.run_time_limits_by_pipeline(pipelines)?;
        Ok(config)
    }

    /// The pipelines' own run time limits; a name no pipeline has is refused,
    /// lest a misspelt one leave its pipeline on the general limit unnoticed.
    fn run_time_limits_by_pipeline(
        &self,
        known: &[String],
    ) -> anyhow::Result<HashMap<String, Duration>> {
        let limits = &self.jobs.max_run_time_s_per_pipeline;
        limits
            .iter()
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

    /// The HTTP server's settings; `jwt_secret` signs tokens and links,
    /// `inference` runs the models.
    pub fn server_config(&self, jwt_secret: Vec<u8>, inference: &Runtime) -> ServerConfig {
        let (auth, uploads) = (&self.auth, &self.uploads);
        ServerConfig {
            jwt_secret,
            token_ttl: Duration::from_secs(auth.token_ttl_s),
            max_upload_bytes: uploads.max_upload_bytes,
            auth_quotas: AuthQuotas {
                logins_per_account: auth.login_attempts_per_minute,
                logins_per_address: auth.login_attempts_per_address_per_minute,
                registrations_per_address: auth.registrations_per_address_per_minute,
            },
            user_quota_bytes: uploads.user_quota_bytes,
            presign_ttl: Duration::from_secs(uploads.presign_ttl_s),
            public_url: self.node.public_url.clone(),
            allow_anonymous: auth.allow_anonymous,
            webhook_allow_private: self.notify.webhook_allow_private,
            mail_enabled: self.notify.smtp_url.is_some(),
            connections: self.connection_limits(),
            inference: inference.name(),
            cors_origins: self.cors_origins().unwrap_or_default(),
            compat: CompatSettings {
                socketio_public_progress: self.compat.socketio_public_progress,
                deepemotion_max_duration_s: self.compat.deepemotion_max_duration_s,
                trainer_secret: self
                    .compat
                    .trainer_secret
                    .as_ref()
                    .map(|secret| secret.expose().to_owned()),
                worker_secret: self
                    .compat
                    .worker_secret
                    .as_ref()
                    .map(|secret| secret.expose().to_owned()),
            },
            ai: self.ai_settings(),
        }
    }

    /// The AI provider, when its URL is set.
    pub fn ai_settings(&self) -> Option<AiSettings> {
        let ai = &self.ai;
        Some(AiSettings {
            base_url: ai.ai_base_url.clone()?,
            api_key: ai.ai_api_key.as_ref().map(|key| key.expose().to_owned()),
            chat_model: ai.ai_chat_model.clone(),
            image_model: ai.ai_image_model.clone(),
            speech_model: ai.ai_speech_model.clone(),
            timeout: seconds(ai.ai_timeout_s),
        })
    }

    /// The origins browsers may call the API from; each is checked.
    pub fn cors_origins(&self) -> anyhow::Result<Vec<HeaderValue>> {
        self.connections
            .cors_origins
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| parse_origin(origin).map_err(|e| anyhow::anyhow!("cors_origins: {e}")))
            .collect()
    }

    /// How many connections, and how slow a client may be.
    pub fn connection_limits(&self) -> ConnectionLimits {
        let connections = &self.connections;
        ConnectionLimits {
            max_connections: connections.max_connections,
            header_read_timeout: seconds(connections.header_read_timeout_s),
            idle_timeout: seconds(connections.idle_timeout_s),
            min_body_bytes_per_s: connections.min_body_bytes_per_s,
            body_grace: ConnectionLimits::BODY_GRACE,
        }
    }

    /// How webhooks and mail are delivered.
    pub fn notifier_config(&self) -> anyhow::Result<NotifierConfig> {
        let notify = &self.notify;
        let mail = match (&notify.smtp_url, &notify.mail_from) {
            (Some(smtp_url), Some(from)) => Some(MailSettings {
                smtp_url: smtp_url.expose().to_owned(),
                from: from.clone(),
                ca_pem: notify
                    .smtp_ca_file
                    .as_deref()
                    .map(read_ca_file)
                    .transpose()?,
            }),
            _ => None,
        };
        Ok(NotifierConfig {
            allow_private: notify.webhook_allow_private,
            retry_base: seconds(notify.notify_retry_base_s),
            poll_interval: OUTBOX_POLL_INTERVAL,
            mail,
        })
    }

    /// How long the download links in mail work.
    pub fn mail_link_ttl(&self) -> Duration {
        Duration::from_secs(self.notify.mail_link_ttl_s)
    }

    /// When leftovers are swept, and how long data is kept.
    pub fn sweeper_config(&self) -> SweeperConfig {
        SweeperConfig {
            interval: seconds(self.uploads.sweep_interval_s),
            retention: self
                .uploads
                .retention_days
                .map(|days| Duration::from_secs_f64(days * DAY_S)),
        }
    }
}

fn read_ca_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("could not read smtp_ca_file {}", path.display()))
}

/// A duration as a number and a unit, s, m, h or d: `90s`, `30m`, `6h`, `1d`.
fn parse_interval(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .context("write a whole number and a unit, e.g. 6h")?;
    let unit_s = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        _ => bail!("the unit must be s, m, h or d, e.g. 6h"),
    };
    match number.checked_mul(unit_s) {
        Some(total) if total > 0 => Ok(Duration::from_secs(total)),
        _ => bail!("it must be above 0 and at most a few centuries"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_intervals_are_a_number_and_a_unit() {
        assert_eq!(parse_interval("6h").unwrap(), Duration::from_secs(6 * 3600));
        assert_eq!(parse_interval("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_interval("1d").unwrap(), Duration::from_secs(86400));
        for bad in ["", "6", "h", "0h", "6 hours", "-1h", "1.5h"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
