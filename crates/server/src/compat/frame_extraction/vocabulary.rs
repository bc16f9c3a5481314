//! The frame-extraction service's words: a video (its four states are in
//! `compat::states`).

use kinoflow_engine::store::JobRecord;
use serde::Serialize;
use utoipa::ToSchema;

use crate::compat::states::celery_status;
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
            status: celery_status(job.state),
            created_at: rfc3339(job.created_at),
        }
    }
}
