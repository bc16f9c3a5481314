//! Following one person through a video: detect once, then track from each
//! frame's landmarks, detecting again only when the person is lost.

use std::path::{Path, PathBuf};

use super::detector::PoseDetector;
use super::landmarks::{LandmarkModel, Pose};
use super::smoothing::AuxSmoother;
use crate::detection::Roi;
use crate::frame::RgbFrame;
use crate::inference::Runtime;
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

/// Extra landmark passes on a frame where the detector found the person.
const SETTLING_PASSES: usize = 3;

/// The region around the auxiliary points is enlarged this much (MediaPipe's).
const ROI_ENLARGE: f32 = 1.25;

/// One person's pose, frame after frame.
pub struct PoseTracker {
    detector: PoseDetector,
    landmarks: LandmarkModel,
    roi: Option<Roi>,
    aux: AuxSmoother,
}

impl PoseTracker {
    /// Loads both models with `runtime`.
    pub fn load(files: &ModelFiles, runtime: &Runtime) -> Result<Self, VisionError> {
        Ok(Self::new(
            PoseDetector::load(&files.detector, runtime)?,
            LandmarkModel::load(&files.landmarks, runtime)?,
        ))
    }

    pub fn new(detector: PoseDetector, landmarks: LandmarkModel) -> Self {
        Self {
            detector,
            landmarks,
            roi: None,
            aux: AuxSmoother::default(),
        }
    }

    /// The pose in a still image on its own, as MediaPipe's static image
    /// mode finds it: one detection, one landmark pass, nothing remembered.
    pub fn still_image(&self, frame: &RgbFrame<'_>) -> Result<Option<Pose>, VisionError> {
        let Some(detection) = self.detector.detect(frame)? else {
            return Ok(None);
        };
        let pose = self.landmarks.run(frame, &detection.roi())?;
        Ok((pose.score >= MIN_TRACKING_SCORE).then_some(pose))
    }

    /// The person's pose in the next frame, shown at `time_s`, or `None`
    /// when there is nobody.
    pub fn track(
        &mut self,
        frame: &RgbFrame<'_>,
        time_s: f64,
    ) -> Result<Option<Pose>, VisionError> {
        if let Some(roi) = self.roi {
            if let Some(pose) = self.landmarks_in(frame, &roi, time_s)? {
                return Ok(Some(pose));
            }
        }
        let Some(detection) = self.detector.detect(frame)? else {
            return Ok(None);
        };
        self.aux.reset();
        let Some(first) = self.landmarks_in(frame, &detection.roi(), time_s)? else {
            return Ok(None);
        };
        // The detector's region is only roughly the one the landmarks give;
        // a second pass from the landmarks' own region starts tracking where
        // it settles, instead of drifting there (with the angles) over the
        // next second as the smoothed region catches up.
        let mut pose = first;
        for _ in 0..SETTLING_PASSES {
            let Some(settled) = self.roi else { break };
            self.aux.reset();
            match self.landmarks_in(frame, &settled, time_s)? {
                Some(better) => pose = better,
                None => break,
            }
        }
        Ok(Some(pose))
    }

    /// Runs the landmark model on `roi`; remembers where to look next.
    fn landmarks_in(
        &mut self,
        frame: &RgbFrame<'_>,
        roi: &Roi,
        time_s: f64,
    ) -> Result<Option<Pose>, VisionError> {
        let pose = self.landmarks.run(frame, roi)?;
        if pose.score < MIN_TRACKING_SCORE {
            self.roi = None;
            self.aux.reset();
            return Ok(None);
        }
        let [centre, scale_point] = self.aux.apply(pose.aux_points, time_s);
        self.roi = Some(Roi::aligned(centre, scale_point, ROI_ENLARGE));
        Ok(Some(pose))
    }
}
