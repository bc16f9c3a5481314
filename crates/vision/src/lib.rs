//! kinoflow's vision: ONNX models run in-process on video frames, and the
//! kinematics computed from what they find.
//!
//! - [`pose`]: pose tracking as MediaPipe BlazePose does it.
//! - [`kinematics`]: joint angles from landmarks.
//!
//! Models run behind [`InferenceBackend`] (pure-Rust `tract` by default), so
//! another runtime can be added without touching what uses them.

mod backend;
mod frame;
pub mod kinematics;
pub mod pose;

pub use backend::{InferenceBackend, TractModel};
pub use frame::RgbFrame;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    #[error("model {path}: {message}")]
    Model { path: String, message: String },
    #[error("inference failed: {0}")]
    Inference(String),
}

/// The logistic function, for the models' logits.
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
