//! The first pass over the video: every frame decoded and the person tracked
//! in it, inference on a blocking thread while ffmpeg decodes ahead.

use std::path::Path;

use kinoflow_engine::{PipelineError, ProgressReporter};
use kinoflow_media::{FrameReaderOptions, Probe, RgbFrame};
use kinoflow_vision::pose::{Pose, PoseTracker};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::failure::transient;
use crate::video::{analyse_frames, scale_between, upright_size, Span};

/// Frames are analysed at most this size (long side); larger videos are
/// scaled down for decoding and their landmarks scaled back.
pub const MAX_ANALYSIS_SIDE: u32 = 1920;

/// What the first pass found, frame by frame.
pub struct Tracked {
    /// The frame size landmarks are given in (the upright input's).
    pub width: u32,
    pub height: u32,
    pub frames: Vec<TrackedFrame>,
}

pub struct TrackedFrame {
    pub time_s: f64,
    pub pose: Option<Pose>,
}

/// How the video is decoded for both passes.
pub fn reader_options() -> FrameReaderOptions {
    FrameReaderOptions {
        max_width: Some(MAX_ANALYSIS_SIDE),
        max_height: Some(MAX_ANALYSIS_SIDE),
        ..FrameReaderOptions::default()
    }
}

/// Tracks the person through `input`; progress goes from `0` to `share`.
pub async fn track(
    input: &Path,
    probe: &Probe,
    tracker: PoseTracker,
    progress: &ProgressReporter,
    share: f64,
    cancel: &CancellationToken,
) -> Result<Tracked, PipelineError> {
    let (width, height) = upright_size(probe);
    let span = Span::new(progress, (0.0, share), "tracking the person");
    let (frames, _) = analyse_frames(
        input,
        probe,
        &reader_options(),
        span,
        cancel,
        move |frames, (decoded_w, decoded_h)| {
            analyse(
                tracker,
                frames,
                scale_between((decoded_w, decoded_h), (width, height)),
            )
        },
    )
    .await?;
    Ok(Tracked {
        width,
        height,
        frames,
    })
}

/// Runs the tracker on each frame as it arrives; landmarks are scaled by
/// `scale` (x, y) back to the input's own pixels.
fn analyse(
    mut tracker: PoseTracker,
    mut frames: mpsc::Receiver<RgbFrame>,
    scale: (f32, f32),
) -> Result<Vec<TrackedFrame>, PipelineError> {
    let mut tracked = Vec::new();
    while let Some(frame) = frames.blocking_recv() {
        let image = kinoflow_vision::RgbFrame::new(
            frame.width as usize,
            frame.height as usize,
            &frame.data,
        )
        .ok_or_else(|| PipelineError::permanent("ffmpeg gave a truncated frame"))?;
        let mut pose = tracker.track(&image, frame.pts).map_err(transient)?;
        if let Some(pose) = pose.as_mut() {
            for landmark in &mut pose.landmarks {
                landmark.x *= scale.0;
                landmark.y *= scale.1;
            }
        }
        tracked.push(TrackedFrame {
            time_s: frame.pts,
            pose,
        });
    }
    Ok(tracked)
}
