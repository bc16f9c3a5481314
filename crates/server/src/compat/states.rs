//! The four states of a video in the originals that ran their work on
//! Celery (the frame-extraction service, DeepEmotion), for a job's state.

use kinoflow_engine::store::JobState;

/// `PENDING`, `PROCESSING`, `COMPLETED` or `FAILED` (a cancelled job too).
pub fn celery_status(state: JobState) -> &'static str {
    match state {
        JobState::Queued | JobState::Retrying => "PENDING",
        JobState::Running => "PROCESSING",
        JobState::Succeeded => "COMPLETED",
        JobState::Failed | JobState::Cancelled => "FAILED",
    }
}
