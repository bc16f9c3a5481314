//! Kinematics from pose landmarks: joint angles, in 3D (world landmarks) and
//! in the image plane, the cleaning of their time series (gaps, outliers,
//! low-pass), and a skeleton with constant segment lengths.

mod angles;
mod filter;
pub mod skeleton;

pub use angles::{joint_angle, Joint, Point, Side};
pub use filter::{clean, Cleaned, MAX_GAP_FRAMES};
