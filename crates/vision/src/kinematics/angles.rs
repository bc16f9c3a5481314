//! Joint angles, as biomechanists define them (degrees):
//! - knee flexion = 180° − ∠(hip, knee, ankle)
//! - hip flexion = 180° − ∠(shoulder, hip, knee)
//! - ankle dorsiflexion = ∠(knee, ankle, foot index) − 90°
//! - elbow flexion = 180° − ∠(shoulder, elbow, wrist)
//! - shoulder flexion = ∠(hip, shoulder, elbow)
//! - trunk inclination = the angle of the hip-midpoint → shoulder-midpoint
//!   line from vertical (no side).
//!
//! Points are in MediaPipe's conventions, image or world: y grows downwards.

/// A landmark's position; 2D points have z = 0.
pub type Point = [f64; 3];

/// The joints kinoflow measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Joint {
    Knee,
    Hip,
    Ankle,
    Elbow,
    Shoulder,
    Trunk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Left,
    Right,
}

impl Joint {
    pub const ALL: [Joint; 6] = [
        Joint::Knee,
        Joint::Hip,
        Joint::Ankle,
        Joint::Elbow,
        Joint::Shoulder,
        Joint::Trunk,
    ];

    /// The joint a name means (`knee`, `hip`, …), whatever its case.
    pub fn parse(name: &str) -> Option<Joint> {
        let joint = match name.trim().to_lowercase().as_str() {
            "knee" => Joint::Knee,
            "hip" => Joint::Hip,
            "ankle" => Joint::Ankle,
            "elbow" => Joint::Elbow,
            "shoulder" => Joint::Shoulder,
            "trunk" => Joint::Trunk,
            _ => return None,
        };
        Some(joint)
    }
}

// MediaPipe's landmark indices, left then right.
const SHOULDER: [usize; 2] = [11, 12];
const ELBOW: [usize; 2] = [13, 14];
const WRIST: [usize; 2] = [15, 16];
const HIP: [usize; 2] = [23, 24];
const KNEE: [usize; 2] = [25, 26];
const ANKLE: [usize; 2] = [27, 28];
const FOOT_INDEX: [usize; 2] = [31, 32];

/// The joint's angle on `side` (ignored for the trunk) from MediaPipe's 33
/// landmarks, or `None` when the points coincide.
pub fn joint_angle(joint: Joint, side: Side, points: &[Point]) -> Option<f64> {
    let s = side as usize;
    let at = |index: [usize; 2]| points.get(index[s]).copied();
    let angle = |a, b, c| angle_at(at(a)?, at(b)?, at(c)?);
    match joint {
        Joint::Knee => angle(HIP, KNEE, ANKLE).map(|a| 180.0 - a),
        Joint::Hip => angle(SHOULDER, HIP, KNEE).map(|a| 180.0 - a),
        Joint::Ankle => angle(KNEE, ANKLE, FOOT_INDEX).map(|a| a - 90.0),
        Joint::Elbow => angle(SHOULDER, ELBOW, WRIST).map(|a| 180.0 - a),
        Joint::Shoulder => angle(HIP, SHOULDER, ELBOW),
        Joint::Trunk => {
            let middle = |index: [usize; 2]| {
                let (l, r) = (points.get(index[0])?, points.get(index[1])?);
                Some([0, 1, 2].map(|k| (l[k] + r[k]) / 2.0))
            };
            let (hips, shoulders) = (middle(HIP)?, middle(SHOULDER)?);
            let above_hips = [hips[0], hips[1] - 1.0, hips[2]];
            angle_at(shoulders, hips, above_hips)
        }
    }
}

/// The angle ABC at B, in degrees (0..180).
fn angle_at(a: Point, b: Point, c: Point) -> Option<f64> {
    let ba = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    let bc = [c[0] - b[0], c[1] - b[1], c[2] - b[2]];
    let norm = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let lengths = norm(ba) * norm(bc);
    if lengths < 1e-12 {
        return None;
    }
    let cos = (ba[0] * bc[0] + ba[1] * bc[1] + ba[2] * bc[2]) / lengths;
    Some(cos.clamp(-1.0, 1.0).acos().to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A standing body facing the camera (y down), left side only moved by
    /// the tests.
    fn standing() -> Vec<Point> {
        let mut points = vec![[0.0; 3]; 33];
        for (s, x) in [(0, 1.0), (1, -1.0)] {
            points[SHOULDER[s]] = [x, 0.0, 0.0];
            points[ELBOW[s]] = [x, 1.0, 0.0];
            points[WRIST[s]] = [x, 2.0, 0.0];
            points[HIP[s]] = [x, 2.0, 0.0];
            points[KNEE[s]] = [x, 3.0, 0.0];
            points[ANKLE[s]] = [x, 4.0, 0.0];
            points[FOOT_INDEX[s]] = [x, 4.0, -0.5];
        }
        points
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn standing_straight_is_neutral() {
        let body = standing();
        for joint in Joint::ALL {
            assert!(
                close(joint_angle(joint, Side::Left, &body), 0.0),
                "{joint:?}"
            );
        }
    }

    #[test]
    fn bent_joints_measure_their_flexion() {
        let mut body = standing();
        body[ANKLE[0]] = [1.0, 3.0, -1.0]; // shank forward: knee at 90°
        assert!(close(joint_angle(Joint::Knee, Side::Left, &body), 90.0));
        body[WRIST[0]] = [1.0, 1.0, -1.0]; // forearm forward: elbow at 90°
        assert!(close(joint_angle(Joint::Elbow, Side::Left, &body), 90.0));
        body[ELBOW[0]] = [1.0, 0.0, -1.0]; // arm raised forward: shoulder at 90°
        assert!(close(joint_angle(Joint::Shoulder, Side::Left, &body), 90.0));
        assert!(close(joint_angle(Joint::Knee, Side::Right, &body), 0.0));
    }

    #[test]
    fn trunk_inclination_is_measured_from_vertical() {
        let mut body = standing();
        for s in 0..2 {
            body[SHOULDER[s]][2] = -2.0; // leaning forward by 45°
        }
        assert!(close(joint_angle(Joint::Trunk, Side::Left, &body), 45.0));
    }

    #[test]
    fn coinciding_points_have_no_angle() {
        let mut body = standing();
        body[KNEE[0]] = body[HIP[0]];
        assert_eq!(joint_angle(Joint::Knee, Side::Left, &body), None);
    }

    #[test]
    fn joints_are_named_in_any_case() {
        assert_eq!(Joint::parse("Knee"), Some(Joint::Knee));
        assert_eq!(Joint::parse(" HIP "), Some(Joint::Hip));
        assert_eq!(Joint::parse("shoulder"), Some(Joint::Shoulder));
        assert_eq!(Joint::parse("wing"), None);
    }
}
