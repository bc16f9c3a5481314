//! The BlazePose detector: finds the most prominent person in a frame and the
//! two keypoints that give the body's centre, size and rotation.

use std::path::Path;

use super::anchors::{pose_anchors, DETECTOR_INPUT};
use super::roi::Roi;
use crate::frame::RgbFrame;
use crate::inference::{output_of_len, rgb_input, InferenceBackend, Runtime};
use crate::{sigmoid, VisionError};

/// Scores below this are not people (MediaPipe's default).
const MIN_SCORE: f32 = 0.5;
/// Detections overlapping the best by more than this are the same person.
const SAME_PERSON_IOU: f32 = 0.3;
/// Each anchor: box (cx, cy, w, h) then 4 keypoints (x, y).
const VALUES_PER_ANCHOR: usize = 12;
const KEYPOINTS: usize = 4;

/// A detected person, in frame pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub score: f32,
    /// Box centre and size.
    pub bbox: [f32; 4],
    /// Hip centre, a point above the head that gives scale and rotation, and
    /// two more the ROI does not use.
    pub keypoints: [(f32, f32); KEYPOINTS],
}

impl Detection {
    /// The rotated crop the landmark model should see.
    pub fn roi(&self) -> Roi {
        Roi::aligned(self.keypoints[0], self.keypoints[1], 1.25)
    }
}

/// Finds people.
pub struct PoseDetector {
    model: Box<dyn InferenceBackend>,
    anchors: Vec<(f32, f32)>,
}

impl PoseDetector {
    pub fn load(path: &Path, runtime: &Runtime) -> Result<Self, VisionError> {
        Ok(Self::with_backend(
            runtime.load(path, rgb_input(DETECTOR_INPUT))?,
        ))
    }

    pub fn with_backend(model: Box<dyn InferenceBackend>) -> Self {
        Self {
            model,
            anchors: pose_anchors(),
        }
    }

    /// The most prominent person, or `None`.
    pub fn detect(&self, frame: &RgbFrame<'_>) -> Result<Option<Detection>, VisionError> {
        let letterbox = Roi::letterbox(frame);
        let input = letterbox
            .crop(frame, DETECTOR_INPUT)
            .into_iter()
            .map(|v| v / 127.5 - 1.0)
            .collect();
        let outputs = self.model.run(input)?;
        let n = self.anchors.len();
        let boxes = output_of_len(&outputs, n * VALUES_PER_ANCHOR)?;
        let scores = output_of_len(&outputs, n)?;
        let candidates: Vec<Detection> = (0..n)
            .filter_map(|i| {
                let score = sigmoid(scores[i].clamp(-100.0, 100.0));
                (score >= MIN_SCORE).then(|| {
                    let raw = &boxes[i * VALUES_PER_ANCHOR..(i + 1) * VALUES_PER_ANCHOR];
                    self.decode(i, raw, score, &letterbox)
                })
            })
            .collect();
        Ok(best_person(candidates))
    }

    /// One anchor's output in frame pixels.
    fn decode(&self, anchor: usize, raw: &[f32], score: f32, letterbox: &Roi) -> Detection {
        let (ax, ay) = self.anchors[anchor];
        let side = DETECTOR_INPUT as f32;
        let point = |x: f32, y: f32| letterbox.to_frame(x / side + ax, y / side + ay);
        let (cx, cy) = point(raw[0], raw[1]);
        let scale = letterbox.size / side;
        let mut keypoints = [(0.0, 0.0); KEYPOINTS];
        for (k, keypoint) in keypoints.iter_mut().enumerate() {
            *keypoint = point(raw[4 + 2 * k], raw[5 + 2 * k]);
        }
        Detection {
            score,
            bbox: [cx, cy, raw[2] * scale, raw[3] * scale],
            keypoints,
        }
    }
}

/// MediaPipe's weighted non-maximum suppression, keeping one person: the
/// best detection, averaged (by score) with those that overlap it.
fn best_person(mut candidates: Vec<Detection>) -> Option<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let best = candidates.first()?.clone();
    let same: Vec<&Detection> = candidates
        .iter()
        .filter(|c| iou(&c.bbox, &best.bbox) > SAME_PERSON_IOU)
        .collect();
    let total: f32 = same.iter().map(|c| c.score).sum();
    let mut merged = Detection {
        score: best.score,
        bbox: [0.0; 4],
        keypoints: [(0.0, 0.0); KEYPOINTS],
    };
    for c in same {
        let w = c.score / total;
        for (m, v) in merged.bbox.iter_mut().zip(c.bbox) {
            *m += w * v;
        }
        for (m, v) in merged.keypoints.iter_mut().zip(c.keypoints) {
            m.0 += w * v.0;
            m.1 += w * v.1;
        }
    }
    Some(merged)
}

/// Intersection over union of two centre-size boxes.
fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let span = |c: f32, s: f32| (c - s / 2.0, c + s / 2.0);
    let overlap = |(a0, a1): (f32, f32), (b0, b1): (f32, f32)| (a1.min(b1) - a0.max(b0)).max(0.0);
    let inter =
        overlap(span(a[0], a[2]), span(b[0], b[2])) * overlap(span(a[1], a[3]), span(b[1], b[3]));
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}
