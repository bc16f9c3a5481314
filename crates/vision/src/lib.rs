//! kinoflow's vision: ONNX models run in-process on video frames, and the
//! kinematics computed from what they find.
//!
//! - [`pose`]: pose tracking as MediaPipe BlazePose does it.
//! - [`face`]: faces found, followed into persons, and their emotions read.
//! - [`detection`]: what MediaPipe's detectors share (anchors, suppression,
//!   the rotated region a model looks at).
//! - [`kinematics`]: joint angles from landmarks.
//! - [`inference`]: the runtime models run with (ONNX Runtime, or tract).
//!
//! Models run behind [`inference::InferenceBackend`], so the detectors and
//! classifiers do not know which runtime they have.

pub mod detection;
pub mod face;
mod frame;
pub mod inference;
pub mod kinematics;
pub mod pose;

pub use frame::RgbFrame;
pub use inference::Runtime;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    #[error("model {path}: {message}")]
    Model { path: String, message: String },
    #[error("inference failed: {0}")]
    Inference(String),
    /// The runtime could not be started (ONNX Runtime's library is missing,
    /// incompatible or lacks an execution provider asked for).
    #[error("{0}")]
    Runtime(String),
}

/// The logistic function, for the models' logits.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
