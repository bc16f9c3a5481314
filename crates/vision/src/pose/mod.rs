//! Pose tracking as MediaPipe BlazePose does it, on the CPU: a detector finds
//! the person and gives a rotated region of interest (ROI), the landmark model
//! runs on that crop (its landmarks refined by their heatmaps), and the next
//! frame's ROI comes from the landmarks; the detector runs again only when the
//! landmark model loses the person. The points that place the next region
//! are smoothed over time (One Euro filter), as MediaPipe smooths them.

mod detector;
mod landmarks;
mod smoothing;
mod tracker;

pub use detector::{PersonDetection, PoseDetector};
pub use landmarks::{Landmark, LandmarkModel, Pose, WorldLandmark, LANDMARK_NAMES};
pub use tracker::{ModelFiles, PoseTracker};
