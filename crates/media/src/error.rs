//! What can go wrong with a media file or with ffmpeg, in words a user can act on.

use std::time::Duration;

/// Why a file could not be used as a video.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// ffprobe could not read the file; the message is ffprobe's reason.
    #[error("not a readable video: {0}")]
    Unreadable(String),
    /// The file is readable media but has no video in it.
    #[error("the file has no video stream{0}")]
    NoVideo(String),
    /// ffprobe or ffmpeg is missing or could not be started.
    #[error("could not run {tool}: {reason} (is ffmpeg installed?)")]
    ToolMissing { tool: &'static str, reason: String },
    #[error("ffprobe took longer than {0:?} on the file")]
    Timeout(Duration),
    /// ffmpeg ran but failed; the message is the gist of what it said.
    #[error("ffmpeg failed: {0}")]
    Ffmpeg(String),
    /// ffmpeg was ended by a signal (killed from outside, out of memory):
    /// nothing to do with the file.
    #[error("ffmpeg was stopped by signal {0}")]
    Killed(i32),
    /// ffmpeg put out nothing for this long and was stopped.
    #[error("ffmpeg made no progress for {} s and was stopped", .0.as_secs())]
    Stalled(Duration),
    /// Reading or writing a pipe to ffmpeg failed.
    #[error("ffmpeg pipe error: {0}")]
    Pipe(#[from] std::io::Error),
}

impl MediaError {
    /// Whether the same work may succeed when tried again: a tool that was
    /// killed, stalled, timed out or is missing on this node, or a broken
    /// pipe, may do better next time or on another node; a file ffmpeg
    /// cannot read will not.
    pub fn is_transient(&self) -> bool {
        match self {
            MediaError::ToolMissing { .. }
            | MediaError::Timeout(_)
            | MediaError::Killed(_)
            | MediaError::Stalled(_)
            | MediaError::Pipe(_) => true,
            MediaError::Unreadable(_) | MediaError::NoVideo(_) | MediaError::Ffmpeg(_) => false,
        }
    }
}
