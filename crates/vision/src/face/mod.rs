//! Faces and what they show: BlazeFace (full range) finds every face in a
//! frame, [`FaceTracker`] links them frame after frame into persons, and the
//! FER-2013 classifier reads each face's emotion.

mod classifier;
mod detector;
mod tracker;

pub use classifier::{EmotionClassifier, EMOTIONS};
pub use detector::{Face, FaceDetector};
pub use tracker::FaceTracker;
