//! Kinematics from pose landmarks: joint angles, in 3D (world landmarks) and
//! in the image plane.

mod angles;

pub use angles::{joint_angle, Joint, Point, Side};
