//! The BlazeFace full-range (back camera) detector: every face in a frame,
//! with its box and six keypoints.

use std::path::Path;

use crate::detection::{weighted_nms, Detection, Roi, SsdDecoder};
use crate::frame::RgbFrame;
use crate::inference::{output_of_len, rgb_input, InferenceBackend, Runtime};
use crate::VisionError;

/// The detector's input side in pixels.
const INPUT: usize = 256;
/// Feature layers: one of stride 16, three of stride 32.
const STRIDES: [usize; 4] = [16, 32, 32, 32];
/// Anchors at stride 16 (16 × 16 cells, 2 each); the rest are at stride 32.
const FINE_ANCHORS: usize = 512;
/// Box and six keypoints per anchor.
const VALUES_PER_ANCHOR: usize = 16;
/// Faces overlapping a better one by more than this are the same face
/// (MediaPipe's setting for this model).
const SAME_FACE_IOU: f32 = 0.3;

/// A face in frame pixels. Keypoints, as the person sees them: right eye,
/// left eye, nose tip, mouth centre, right ear, left ear.
pub type Face = Detection<6>;

impl Face {
    /// The eyes, the person's right then left.
    pub fn eyes(&self) -> ((f32, f32), (f32, f32)) {
        (self.keypoints[0], self.keypoints[1])
    }
}

/// Finds faces.
pub struct FaceDetector {
    model: Box<dyn InferenceBackend>,
    ssd: SsdDecoder,
}

impl FaceDetector {
    /// Loads the model at `path` with `runtime`.
    pub fn load(path: &Path, runtime: &Runtime) -> Result<Self, VisionError> {
        Ok(Self::with_backend(runtime.load(path, rgb_input(INPUT))?))
    }

    /// A detector over a model already loaded.
    pub fn with_backend(model: Box<dyn InferenceBackend>) -> Self {
        Self {
            model,
            ssd: SsdDecoder::new(INPUT, &STRIDES),
        }
    }

    /// Every face scoring at least `min_score` (0..1), best first.
    pub fn detect(&self, frame: &RgbFrame<'_>, min_score: f32) -> Result<Vec<Face>, VisionError> {
        let letterbox = Roi::letterbox(frame);
        let input = letterbox
            .crop(frame, INPUT)
            .into_iter()
            .map(|v| v / 127.5 - 1.0)
            .collect();
        let outputs = self.model.run(input)?;
        let coarse = self.ssd.len() - FINE_ANCHORS;
        // The two feature maps come as separate outputs: joined in anchor order.
        let scores = [
            output_of_len(&outputs, FINE_ANCHORS)?,
            output_of_len(&outputs, coarse)?,
        ]
        .concat();
        let boxes = [
            output_of_len(&outputs, FINE_ANCHORS * VALUES_PER_ANCHOR)?,
            output_of_len(&outputs, coarse * VALUES_PER_ANCHOR)?,
        ]
        .concat();
        let candidates = self.ssd.decode(&scores, &boxes, min_score, &letterbox);
        Ok(weighted_nms(candidates, SAME_FACE_IOU))
    }
}
