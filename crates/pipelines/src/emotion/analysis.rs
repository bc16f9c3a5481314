//! The first pass over the video: frames chosen by their timestamps, every
//! face in them found, linked to a person and read, inference on a blocking
//! thread while ffmpeg decodes ahead.

use std::path::Path;

use kinoflow_engine::{PipelineError, ProgressReporter};
use kinoflow_media::{FrameReaderOptions, Probe, RgbFrame};
use kinoflow_vision::face::{EmotionClassifier, FaceDetector, FaceTracker};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::params::EmotionParams;
use crate::failure::transient;
use crate::video::{analyse_frames, scale_between, upright_size, Span};

/// Frames are analysed at most this size (long side): BlazeFace sees a
/// 256-pixel square of the whole frame, and a face big enough for it is
/// big enough for the classifier's 64 pixels well below this.
pub const MAX_ANALYSIS_SIDE: u32 = 1280;
/// A person's track ends after this long without their face.
const TRACK_MEMORY_S: f64 = 0.5;

/// The models one job runs.
pub struct FaceModels {
    pub detector: FaceDetector,
    pub classifier: EmotionClassifier,
}

/// A face in one analysed frame, in the video's own pixels.
#[derive(Debug, Clone)]
pub struct SeenFace {
    pub face_id: u32,
    /// Left, top, width, height.
    pub bbox: [f32; 4],
    pub score: f32,
    pub probabilities: [f32; 7],
}

/// One analysed frame.
#[derive(Debug, Clone)]
pub struct SampledFrame {
    /// Its index among the video's decoded frames.
    pub frame: u64,
    pub time_s: f64,
    pub faces: Vec<SeenFace>,
}

/// What the first pass found.
pub struct Observed {
    /// The upright size boxes are given in.
    pub width: u32,
    pub height: u32,
    pub frames_decoded: u64,
    /// The last decoded frame's time.
    pub last_time_s: f64,
    pub sampled: Vec<SampledFrame>,
    /// Faces found but smaller than `min_face_px`.
    pub skipped_small: u64,
    /// Seconds between analysed frames.
    pub period_s: f64,
}

/// How the video is decoded for both passes.
pub fn reader_options() -> FrameReaderOptions {
    FrameReaderOptions {
        max_width: Some(MAX_ANALYSIS_SIDE),
        max_height: Some(MAX_ANALYSIS_SIDE),
        ..FrameReaderOptions::default()
    }
}

/// Finds, follows and reads the faces in `input`; progress goes from `0` to `share`.
pub async fn observe(
    input: &Path,
    probe: &Probe,
    models: FaceModels,
    params: &EmotionParams,
    progress: (&ProgressReporter, f64),
    cancel: &CancellationToken,
) -> Result<Observed, PipelineError> {
    let (width, height) = upright_size(probe);
    let period_s = sample_period(params.sample_fps, probe.frame_rate);
    let tracker = FaceTracker::new((TRACK_MEMORY_S / period_s).ceil().max(1.0) as u32);
    let sampler = Sampler::new(params.sample_fps);
    let (min_face_px, min_score) = (params.min_face_px as f32, params.min_score);
    let (reporter, share) = progress;
    let span = Span::new(reporter, (0.0, share), "reading the faces");
    let (read, frames_decoded) = analyse_frames(
        input,
        probe,
        &reader_options(),
        span,
        cancel,
        move |frames, (decoded_w, decoded_h)| {
            let reading = Reading {
                models,
                tracker,
                sampler,
                scale: scale_between((decoded_w, decoded_h), (width, height)),
                min_face_px,
                min_score,
            };
            reading.read_all(frames)
        },
    )
    .await?;
    Ok(Observed {
        width,
        height,
        frames_decoded,
        last_time_s: read.last_time_s,
        sampled: read.sampled,
        skipped_small: read.skipped_small,
        period_s,
    })
}

/// Seconds between analysed frames: the sampling rate's, or the video's
/// own frame interval when every frame is analysed.
fn sample_period(sample_fps: f64, video_fps: Option<f64>) -> f64 {
    let fps = if sample_fps > 0.0 {
        video_fps.map_or(sample_fps, |v| sample_fps.min(v))
    } else {
        video_fps.unwrap_or(25.0)
    };
    1.0 / fps.max(1e-3)
}

/// What the blocking thread found.
struct Read {
    sampled: Vec<SampledFrame>,
    skipped_small: u64,
    last_time_s: f64,
}

/// What reads the frames on the blocking thread.
struct Reading {
    models: FaceModels,
    tracker: FaceTracker,
    sampler: Sampler,
    scale: (f32, f32),
    min_face_px: f32,
    min_score: f32,
}

impl Reading {
    /// Every analysed frame, how many faces were too small, the last time.
    fn read_all(mut self, mut frames: mpsc::Receiver<RgbFrame>) -> Result<Read, PipelineError> {
        let mut read = Read {
            sampled: Vec::new(),
            skipped_small: 0,
            last_time_s: 0.0,
        };
        let mut index = 0u64;
        while let Some(frame) = frames.blocking_recv() {
            if self.sampler.take(frame.pts) {
                let (faces, skipped) = self.read(&frame)?;
                read.skipped_small += skipped;
                read.sampled.push(SampledFrame {
                    frame: index,
                    time_s: frame.pts,
                    faces,
                });
            }
            read.last_time_s = frame.pts;
            index += 1;
        }
        Ok(read)
    }

    /// The faces in one frame (boxes in the video's pixels) and how many
    /// were too small to read.
    fn read(&mut self, frame: &RgbFrame) -> Result<(Vec<SeenFace>, u64), PipelineError> {
        let image = kinoflow_vision::RgbFrame::new(
            frame.width as usize,
            frame.height as usize,
            &frame.data,
        )
        .ok_or_else(|| PipelineError::permanent("ffmpeg gave a truncated frame"))?;
        let found = self
            .models
            .detector
            .detect(&image, self.min_score)
            .map_err(transient)?;
        let (sx, sy) = self.scale;
        let (large, small): (Vec<_>, Vec<_>) = found.into_iter().partition(|face| {
            face.bbox[2] * sx >= self.min_face_px && face.bbox[3] * sy >= self.min_face_px
        });
        let boxes: Vec<[f32; 4]> = large.iter().map(|f| f.bbox).collect();
        let ids = self.tracker.update(&boxes);
        let mut faces = Vec::with_capacity(large.len());
        for (face, face_id) in large.iter().zip(ids) {
            let probabilities = self
                .models
                .classifier
                .classify(&image, face)
                .map_err(transient)?;
            let [cx, cy, w, h] = face.bbox;
            faces.push(SeenFace {
                face_id,
                bbox: [(cx - w / 2.0) * sx, (cy - h / 2.0) * sy, w * sx, h * sy],
                score: face.score,
                probabilities,
            });
        }
        Ok((faces, small.len() as u64))
    }
}

/// Chooses frames by their timestamps: the first, then each first frame at
/// or after the next multiple of the period, so that the rate holds whatever
/// the video's frame rate (variable rates included).
struct Sampler {
    period: Option<f64>,
    next: Option<f64>,
}

/// Timestamps are rounded by containers: this close counts as on time.
const TIME_SLACK_S: f64 = 1e-4;

impl Sampler {
    fn new(sample_fps: f64) -> Self {
        Self {
            period: (sample_fps > 0.0).then(|| 1.0 / sample_fps),
            next: None,
        }
    }

    fn take(&mut self, time_s: f64) -> bool {
        let Some(period) = self.period else {
            return true;
        };
        if self.next.is_some_and(|next| time_s + TIME_SLACK_S < next) {
            return false;
        }
        // The next multiple of the period after this frame, in one step:
        // a jump in the timestamps costs nothing.
        let next = self.next.unwrap_or(time_s);
        let periods = ((time_s + TIME_SLACK_S - next) / period).floor().max(0.0) + 1.0;
        let following = next + periods * period;
        self.next = Some(if following > time_s {
            following
        } else {
            // Past float precision (absurd timestamps): keep moving forwards.
            time_s + period
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(sample_fps: f64, video_fps: f64, seconds: f64) -> usize {
        let mut sampler = Sampler::new(sample_fps);
        let frames = (seconds * video_fps) as usize;
        (0..frames)
            .filter(|&i| sampler.take(i as f64 / video_fps))
            .count()
    }

    #[test]
    fn frames_are_chosen_by_time_whatever_the_frame_rate() {
        assert_eq!(taken(24.0, 30.0, 10.0), 240);
        assert_eq!(taken(24.0, 60.0, 10.0), 240);
        assert_eq!(taken(10.0, 25.0, 10.0), 100);
        // Asking for more than the video has gives every frame.
        assert_eq!(taken(24.0, 12.0, 10.0), 120);
        assert_eq!(taken(0.0, 30.0, 10.0), 300);
    }
}
