//! The BlazePose detector: finds the most prominent person in a frame and the
//! two keypoints that give the body's centre, size and rotation.

use std::path::Path;

use crate::detection::{weighted_nms, Detection, Roi, SsdDecoder};
use crate::frame::RgbFrame;
use crate::inference::{output_of_len, rgb_input, InferenceBackend, Runtime};
use crate::VisionError;

/// The detector's input side in pixels.
const INPUT: usize = 224;
/// Its feature layers' strides.
const STRIDES: [usize; 5] = [8, 16, 32, 32, 32];
/// Scores below this are not people (MediaPipe's default).
const MIN_SCORE: f32 = 0.5;
/// Detections overlapping the best by more than this are the same person.
const SAME_PERSON_IOU: f32 = 0.3;
/// Each anchor: box (cx, cy, w, h) then 4 keypoints (x, y).
const VALUES_PER_ANCHOR: usize = 12;

/// A detected person, in frame pixels. Keypoints: the hips' centre, a point
/// above the head that gives scale and rotation, and two the ROI does not use.
pub type PersonDetection = Detection<4>;

impl PersonDetection {
    /// The rotated crop the landmark model should see.
    pub fn roi(&self) -> Roi {
        Roi::aligned(self.keypoints[0], self.keypoints[1], 1.25)
    }
}

/// Finds people.
pub struct PoseDetector {
    model: Box<dyn InferenceBackend>,
    ssd: SsdDecoder,
}

impl PoseDetector {
    pub fn load(path: &Path, runtime: &Runtime) -> Result<Self, VisionError> {
        Ok(Self::with_backend(runtime.load(path, rgb_input(INPUT))?))
    }

    pub fn with_backend(model: Box<dyn InferenceBackend>) -> Self {
        Self {
            model,
            ssd: SsdDecoder::new(INPUT, &STRIDES),
        }
    }

    /// The most prominent person, or `None`.
    pub fn detect(&self, frame: &RgbFrame<'_>) -> Result<Option<PersonDetection>, VisionError> {
        let letterbox = Roi::letterbox(frame);
        let input = letterbox
            .crop(frame, INPUT)
            .into_iter()
            .map(|v| v / 127.5 - 1.0)
            .collect();
        let outputs = self.model.run(input)?;
        let n = self.ssd.len();
        let boxes = output_of_len(&outputs, n * VALUES_PER_ANCHOR)?;
        let scores = output_of_len(&outputs, n)?;
        let candidates = self.ssd.decode(scores, boxes, MIN_SCORE, &letterbox);
        // MediaPipe keeps one person: the best, merged with those overlapping it.
        Ok(weighted_nms(candidates, SAME_PERSON_IOU).into_iter().next())
    }
}
