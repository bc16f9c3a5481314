//! Following one person through a video: detect once, then track from each
//! frame's landmarks, detecting again only when the person is lost.

use std::path::{Path, PathBuf};

use super::detector::PoseDetector;
use super::landmarks::{LandmarkModel, Pose};
use super::roi::Roi;
use crate::frame::RgbFrame;
use crate::VisionError;

/// Below this landmark-model score the person is lost (MediaPipe's default
/// tracking confidence).
const MIN_TRACKING_SCORE: f32 = 0.5;

/// Where the models are.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub detector: PathBuf,
    pub landmarks: PathBuf,
}

impl ModelFiles {
    /// The models in `dir` (`pose_detection.onnx`, `pose_landmark_<variant>.onnx`).
    pub fn in_dir(dir: &Path, variant: &str) -> Self {
        Self {
            detector: dir.join("pose_detection.onnx"),
            landmarks: dir.join(format!("pose_landmark_{variant}.onnx")),
        }
    }
}

/// One person's pose, frame after frame.
pub struct PoseTracker {
    detector: PoseDetector,
    landmarks: LandmarkModel,
    roi: Option<Roi>,
}

impl PoseTracker {
    pub fn load(files: &ModelFiles) -> Result<Self, VisionError> {
        Ok(Self::new(
            PoseDetector::load(&files.detector)?,
            LandmarkModel::load(&files.landmarks)?,
        ))
    }

    pub fn new(detector: PoseDetector, landmarks: LandmarkModel) -> Self {
        Self {
            detector,
            landmarks,
            roi: None,
        }
    }

    /// The person's pose in the next frame, or `None` when there is nobody.
    pub fn track(&mut self, frame: &RgbFrame<'_>) -> Result<Option<Pose>, VisionError> {
        if let Some(roi) = self.roi {
            if let Some(pose) = self.landmarks_in(frame, &roi)? {
                return Ok(Some(pose));
            }
        }
        let Some(detection) = self.detector.detect(frame)? else {
            return Ok(None);
        };
        self.landmarks_in(frame, &detection.roi())
    }

    /// Runs the landmark model on `roi`; remembers where to look next.
    fn landmarks_in(
        &mut self,
        frame: &RgbFrame<'_>,
        roi: &Roi,
    ) -> Result<Option<Pose>, VisionError> {
        let pose = self.landmarks.run(frame, roi)?;
        if pose.score < MIN_TRACKING_SCORE {
            self.roi = None;
            return Ok(None);
        }
        self.roi = Some(pose.next_roi);
        Ok(Some(pose))
    }
}
