//! From tracked poses to angle series: the skeleton fitted to constant
//! segment lengths, every joint's angle in 3D (fitted world landmarks) and in
//! the image plane, each series cleaned and low-passed.

use kinoflow_vision::kinematics::skeleton::{self, Observed, Skeleton};
use kinoflow_vision::kinematics::{clean, joint_angle, Joint, Point, Side};
use kinoflow_vision::pose::Pose;

use super::tracking::Tracked;

/// One angle's values over the video, `None` where there was nobody.
pub struct AngleSeries {
    pub joint: Joint,
    /// `None` for the trunk, which has no side.
    pub side: Option<Side>,
    /// In the image plane rather than in 3D.
    pub planar: bool,
    pub values: Vec<Option<f64>>,
    pub outliers: usize,
    pub filled: usize,
}

impl AngleSeries {
    /// The column name: `knee_left_deg`, `knee_left_2d_deg`, `trunk_deg`.
    pub fn name(&self) -> String {
        let mut name = joint_name(self.joint).to_owned();
        if let Some(side) = self.side {
            name.push('_');
            name.push_str(side_name(side));
        }
        if self.planar {
            name.push_str("_2d");
        }
        name.push_str("_deg");
        name
    }
}

pub fn joint_name(joint: Joint) -> &'static str {
    match joint {
        Joint::Knee => "knee",
        Joint::Hip => "hip",
        Joint::Ankle => "ankle",
        Joint::Elbow => "elbow",
        Joint::Shoulder => "shoulder",
        Joint::Trunk => "trunk",
    }
}

pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Left => "left",
        Side::Right => "right",
    }
}

/// Everything computed from the tracked poses.
pub struct Analysis {
    pub skeleton: Skeleton,
    pub angles: Vec<AngleSeries>,
    /// Why the low-pass was skipped, when it was.
    pub filter_note: Option<String>,
}

/// Fits the skeleton and computes every joint's angles, cleaned at `cutoff_hz`.
pub fn analyse(tracked: &Tracked, fps: f64, cutoff_hz: f64) -> Analysis {
    let world: Vec<Option<Vec<Point>>> = tracked
        .frames
        .iter()
        .map(|frame| frame.pose.as_ref().map(world_points))
        .collect();
    let visibility: Vec<Option<Vec<f32>>> = tracked
        .frames
        .iter()
        .map(|frame| {
            frame
                .pose
                .as_ref()
                .map(|pose| pose.landmarks.iter().map(|l| l.visibility).collect())
        })
        .collect();
    let observed: Vec<Option<Observed<'_>>> = world
        .iter()
        .zip(&visibility)
        .map(|(world, visibility)| match (world, visibility) {
            (Some(world), Some(visibility)) => Some(Observed { world, visibility }),
            _ => None,
        })
        .collect();
    let skeleton = skeleton::fit(&observed);
    let image: Vec<Option<Vec<Point>>> = tracked
        .frames
        .iter()
        .map(|frame| frame.pose.as_ref().map(image_points))
        .collect();
    let mut filter_note = None;
    let mut angles = Vec::new();
    for (points, planar) in [(&skeleton.frames, false), (&image, true)] {
        for joint in Joint::ALL {
            for side in sides_of(joint) {
                let raw: Vec<Option<f64>> = points
                    .iter()
                    .map(|p| {
                        p.as_deref()
                            .and_then(|p| joint_angle(joint, side.unwrap_or(Side::Left), p))
                    })
                    .collect();
                let cleaned = clean(&raw, fps, cutoff_hz);
                filter_note = filter_note.or(cleaned.note);
                angles.push(AngleSeries {
                    joint,
                    side,
                    planar,
                    values: cleaned.values,
                    outliers: cleaned.outliers,
                    filled: cleaned.filled,
                });
            }
        }
    }
    Analysis {
        skeleton,
        angles,
        filter_note,
    }
}

/// Left and right, or no side for the trunk.
pub fn sides_of(joint: Joint) -> Vec<Option<Side>> {
    if joint == Joint::Trunk {
        vec![None]
    } else {
        vec![Some(Side::Left), Some(Side::Right)]
    }
}

fn world_points(pose: &Pose) -> Vec<Point> {
    pose.world
        .iter()
        .map(|w| [f64::from(w.x), f64::from(w.y), f64::from(w.z)])
        .collect()
}

fn image_points(pose: &Pose) -> Vec<Point> {
    pose.landmarks
        .iter()
        .map(|l| [f64::from(l.x), f64::from(l.y), 0.0])
        .collect()
}
