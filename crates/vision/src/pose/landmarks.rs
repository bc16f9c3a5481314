//! The BlazePose landmark model: 33 body landmarks (and 6 auxiliary points)
//! from a rotated crop around the person, in frame pixels and in metres.

use std::path::Path;

use crate::detection::Roi;
use crate::frame::RgbFrame;
use crate::inference::{output_of_len, rgb_input, InferenceBackend, Runtime};
use crate::{sigmoid, VisionError};

/// The landmark model's input side in pixels.
const LANDMARK_INPUT: usize = 256;
/// 33 body landmarks, then 6 auxiliary points (33, 34 give the next ROI).
const POINTS: usize = 39;
const BODY: usize = 33;
/// The side of the model's per-landmark heatmaps.
const HEATMAP: usize = 64;
/// Landmarks are refined over this many heatmap cells around them…
const REFINE_KERNEL: usize = 7;
/// …when the heatmap is at least this confident there.
const REFINE_MIN_CONFIDENCE: f32 = 0.5;

/// MediaPipe's 33 landmark names, in the model's order.
pub const LANDMARK_NAMES: [&str; BODY] = [
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
];

/// One landmark in frame pixels; `visibility` is 0..1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmark {
    pub x: f32,
    pub y: f32,
    pub visibility: f32,
}

/// One landmark in metres, origin between the hips, y down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorldLandmark {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

/// A person's pose in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Pose {
    /// How sure the model is that a person is in the crop, 0..1.
    pub score: f32,
    pub landmarks: Vec<Landmark>,
    pub world: Vec<WorldLandmark>,
    /// The two auxiliary points, in frame pixels, that place the next
    /// frame's region: the hips' centre and a point that gives the body's size.
    pub aux_points: [(f32, f32); 2],
}

/// Finds the landmarks of the person in a ROI.
pub struct LandmarkModel {
    model: Box<dyn InferenceBackend>,
}

impl LandmarkModel {
    pub fn load(path: &Path, runtime: &Runtime) -> Result<Self, VisionError> {
        Ok(Self::with_backend(
            runtime.load(path, rgb_input(LANDMARK_INPUT))?,
        ))
    }

    pub fn with_backend(model: Box<dyn InferenceBackend>) -> Self {
        Self { model }
    }

    pub fn run(&self, frame: &RgbFrame<'_>, roi: &Roi) -> Result<Pose, VisionError> {
        let input = roi
            .crop(frame, LANDMARK_INPUT)
            .into_iter()
            .map(|v| v / 255.0)
            .collect();
        let outputs = self.model.run(input)?;
        let raw = output_of_len(&outputs, POINTS * 5)?;
        let world = output_of_len(&outputs, POINTS * 3)?;
        let score = output_of_len(&outputs, 1)?[0];
        let heatmaps = output_of_len(&outputs, HEATMAP * HEATMAP * POINTS)?;
        let side = LANDMARK_INPUT as f32;
        let points: Vec<(f32, f32)> = raw
            .chunks_exact(5)
            .enumerate()
            .map(|(i, p)| {
                let (u, v) = refine(heatmaps, i, p[0] / side, p[1] / side);
                roi.to_frame(u, v)
            })
            .collect();
        let landmarks = raw
            .chunks_exact(5)
            .zip(&points)
            .take(BODY)
            .map(|(p, &(x, y))| Landmark {
                x,
                y,
                visibility: sigmoid(p[3]),
            })
            .collect();
        // The crop was turned upright; turn the body back as it stands.
        let (sin, cos) = roi.rotation.sin_cos();
        let world = world
            .chunks_exact(3)
            .take(BODY)
            .map(|w| WorldLandmark {
                x: w[0] * cos - w[1] * sin,
                y: w[0] * sin + w[1] * cos,
                z: w[2],
            })
            .collect();
        Ok(Pose {
            score,
            landmarks,
            world,
            aux_points: [points[33], points[34]],
        })
    }
}

/// MediaPipe's refinement of a landmark (fractions of the crop) by its
/// heatmap: the confidence-weighted centre of the cells around it, where the
/// heatmap is confident enough.
fn refine(heatmaps: &[f32], landmark: usize, u: f32, v: f32) -> (f32, f32) {
    let (col, row) = ((u * HEATMAP as f32) as i64, (v * HEATMAP as f32) as i64);
    let size = HEATMAP as i64;
    if !(0..size).contains(&col) || !(0..size).contains(&row) {
        return (u, v);
    }
    let reach = (REFINE_KERNEL as i64 - 1) / 2;
    let (mut sum, mut at_col, mut at_row, mut best) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for r in (row - reach).max(0)..(row + reach + 1).min(size) {
        for c in (col - reach).max(0)..(col + reach + 1).min(size) {
            let cell = (r as usize * HEATMAP + c as usize) * POINTS + landmark;
            let confidence = sigmoid(heatmaps[cell]);
            sum += confidence;
            best = best.max(confidence);
            at_col += c as f32 * confidence;
            at_row += r as f32 * confidence;
        }
    }
    if best < REFINE_MIN_CONFIDENCE || sum <= 0.0 {
        return (u, v);
    }
    (at_col / sum / HEATMAP as f32, at_row / sum / HEATMAP as f32)
}
