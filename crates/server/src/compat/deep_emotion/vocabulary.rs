//! DeepEmotion's words: its account, video and frame objects, its spelling
//! of the emotions and its dates.

use kinoflow_engine::store::{JobRecord, JobState};
use serde::Serialize;
use utoipa::ToSchema;

use super::records::VideoRow;
use crate::auth::AuthUser;
use crate::compat::states::celery_status;

/// An account as `UserSchema` showed it.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: String,
    pub created_at: String,
    pub updated_at: String,
}

impl UserView {
    /// The account of `user`, named `username` (an account made on `/v1`
    /// has none: its e-mail address's local part stands in).
    pub fn new(user: &AuthUser, username: Option<String>) -> Self {
        let username = username.unwrap_or_else(|| {
            user.email
                .split_once('@')
                .map_or(user.email.as_str(), |(local, _)| local)
                .to_owned()
        });
        Self {
            id: user.id.clone(),
            username,
            email: user.email.clone(),
            created_at: naive_utc(user.created_at),
            updated_at: naive_utc(user.created_at),
        }
    }
}

/// A video as `VideoSchema` showed it, with the reason when it failed.
#[derive(Serialize, ToSchema)]
pub struct VideoView {
    /// The `emotion` job's id.
    pub id: String,
    pub user_id: String,
    pub title: String,
    /// `uploads/<user id>/<stream name>`: the web client plays
    /// `/videos/stream/<its last part>`.
    pub s3_key: String,
    /// `PENDING`, `PROCESSING`, `COMPLETED` or `FAILED`.
    pub status: &'static str,
    /// Frames in which a face was read.
    pub frame_count: i64,
    pub duration_seconds: f64,
    pub uploaded_at: String,
    pub processed_at: Option<String>,
    /// Why the analysis failed (`FAILED` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl VideoView {
    /// The video of `row`, analysed by `job`.
    pub fn new(row: &VideoRow, job: &JobRecord) -> Self {
        let error_message = match job.state {
            JobState::Failed => Some(
                job.error
                    .clone()
                    .unwrap_or_else(|| "a análise falhou".to_owned()),
            ),
            JobState::Cancelled => Some("a análise foi cancelada".to_owned()),
            _ => None,
        };
        Self {
            id: job.id.clone(),
            user_id: row.owner_id.clone(),
            title: row.title.clone().unwrap_or_default(),
            s3_key: s3_key(&row.owner_id, &row.stream_name),
            status: celery_status(job.state),
            frame_count: row.frame_count.unwrap_or(0),
            duration_seconds: row.duration_s.unwrap_or(0.0),
            uploaded_at: naive_utc(row.created_at),
            processed_at: job
                .finished_at
                .filter(|_| job.state == JobState::Succeeded)
                .map(naive_utc),
            error_message,
        }
    }
}

/// A video with its frames, and a signed address to play it from.
#[derive(Serialize, ToSchema)]
pub struct VideoDetail {
    #[serde(flatten)]
    pub video: VideoView,
    /// The main person's emotion in each analysed frame where a face was
    /// seen, in frame order; empty until the analysis is done.
    pub frames: Vec<FrameView>,
    /// Plays the video for a while without a token (new clients; the web
    /// client builds its own address from `s3_key`).
    pub video_url: Option<String>,
}

/// One analysed frame: the original's `emotion` and `confidence`, and
/// every emotion's probability (`emotions` sorted most likely first, in
/// lower case, as the current web client reads them).
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
pub struct FrameView {
    pub id: i64,
    pub video_id: String,
    pub frame_number: i64,
    pub video_timestamp_sec: f64,
    /// `HAPPY`, `SAD`, `ANGRY`, `SURPRISED`, `NEUTRAL`, `FEAR` or `DISGUST`.
    pub emotion: String,
    pub confidence: f64,
    pub emotions: Vec<String>,
    pub confidences: Vec<f64>,
}

/// Where the web client finds a video's file: the original's key shape,
/// its last part the stream name.
pub fn s3_key(owner_id: &str, stream_name: &str) -> String {
    format!("uploads/{owner_id}/{stream_name}")
}

/// An emotion as DeepEmotion spells it, in lower case: the pipeline's
/// `surprise` is its `surprised`.
pub fn emotion_word(pipeline_label: &str) -> String {
    match pipeline_label {
        "surprise" => "surprised".to_owned(),
        other => other.to_owned(),
    }
}

/// A moment as the original wrote it: UTC, to the second, no zone.
pub fn naive_utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surprise_is_spelled_the_originals_way() {
        assert_eq!(emotion_word("surprise"), "surprised");
        assert_eq!(emotion_word("happy"), "happy");
    }

    #[test]
    fn dates_are_naive_utc_to_the_second() {
        assert_eq!(naive_utc(1_757_103_336_789), "2025-09-05T20:15:36");
    }
}
