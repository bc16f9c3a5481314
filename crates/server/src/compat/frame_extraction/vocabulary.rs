//! The frame-extraction service's words: a video and its four states.

use kinoflow_engine::store::{JobRecord, JobState};
use serde::Serialize;
use utoipa::ToSchema;

use crate::views::rfc3339;

/// A video as the original service described it.
#[derive(Serialize, ToSchema)]
pub struct VideoView {
    /// The video's id (a `frames` job's).
    pub id: String,
    /// The uploaded file's name.
    pub filename: String,
    /// `PENDING`, `PROCESSING`, `COMPLETED` or `FAILED`.
    pub status: &'static str,
    pub created_at: String,
}

impl VideoView {
    /// The video a `frames` job is, of the file named `filename`.
    pub fn new(job: &JobRecord, filename: String) -> Self {
        Self {
            id: job.id.clone(),
            filename,
            status: status_word(job.state),
            created_at: rfc3339(job.created_at),
        }
    }
}

/// The original's four states.
pub fn status_word(state: JobState) -> &'static str {
    match state {
        JobState::Queued | JobState::Retrying => "PENDING",
        JobState::Running => "PROCESSING",
        JobState::Succeeded => "COMPLETED",
        JobState::Failed | JobState::Cancelled => "FAILED",
    }
}
