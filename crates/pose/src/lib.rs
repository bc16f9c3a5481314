//! Pose tracking as MediaPipe BlazePose does it, on the CPU: a detector finds
//! the person and gives a rotated region of interest (ROI), the landmark model
//! runs on that crop, and the next frame's ROI comes from the landmarks; the
//! detector runs again only when the landmark model loses the person.
//!
//! The models run behind [`InferenceBackend`] (pure-Rust `tract` by default),
//! so another runtime can be added without touching the geometry.

mod anchors;
mod backend;
mod detector;
mod frame;
mod landmarks;
mod roi;
mod tracker;

pub use backend::{InferenceBackend, TractModel};
pub use detector::{Detection, PoseDetector};
pub use frame::RgbFrame;
pub use landmarks::{Landmark, LandmarkModel, Pose, WorldLandmark, LANDMARK_NAMES};
pub use roi::Roi;
pub use tracker::{ModelFiles, PoseTracker};

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum PoseError {
    #[error("pose model {path}: {message}")]
    Model { path: String, message: String },
    #[error("pose inference failed: {0}")]
    Inference(String),
}

/// The logistic function, for the models' logits.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
