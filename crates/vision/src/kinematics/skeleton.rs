//! A physically consistent skeleton, what the original service got from
//! inverse kinematics: each segment's length is estimated once per person (the
//! median over frames where both its ends are clearly visible), then every
//! frame's 3D pose is rebuilt outwards from the hips with those lengths,
//! keeping each segment's observed direction, except where a knee, elbow or
//! ankle would bend past its anatomical limit.

use super::angles::Point;

/// A landmark, or the midpoint of two.
#[derive(Debug, Clone, Copy)]
enum End {
    At(usize),
    Mid(usize, usize),
}

/// A rigid segment between two ends; segments are listed parents first, so
/// that a segment's start is already fitted when the segment is.
#[derive(Debug, Clone, Copy)]
struct Segment {
    name: &'static str,
    from: End,
    to: End,
}

const HIPS: End = End::Mid(23, 24);
const SHOULDERS: End = End::Mid(11, 12);

/// The skeleton's segments, from the hip midpoint outwards. The hip and
/// shoulder widths are fitted about their midpoints (see [`fit_frame`]).
const SEGMENTS: [Segment; 15] = [
    seg("hip_width", End::At(23), End::At(24)),
    seg("trunk", HIPS, SHOULDERS),
    seg("shoulder_width", End::At(11), End::At(12)),
    seg("upper_arm_left", End::At(11), End::At(13)),
    seg("forearm_left", End::At(13), End::At(15)),
    seg("upper_arm_right", End::At(12), End::At(14)),
    seg("forearm_right", End::At(14), End::At(16)),
    seg("thigh_left", End::At(23), End::At(25)),
    seg("shank_left", End::At(25), End::At(27)),
    seg("foot_left", End::At(27), End::At(31)),
    seg("heel_left", End::At(27), End::At(29)),
    seg("thigh_right", End::At(24), End::At(26)),
    seg("shank_right", End::At(26), End::At(28)),
    seg("foot_right", End::At(28), End::At(32)),
    seg("heel_right", End::At(28), End::At(30)),
];

const fn seg(name: &'static str, from: End, to: End) -> Segment {
    Segment { name, from, to }
}

/// Anatomical limits on the angle at a joint, ∠(proximal, joint, distal) in
/// degrees: knees and elbows cannot fold completely, ankles move about ±60°
/// around a right angle.
const JOINT_LIMITS: [(usize, usize, usize, f64, f64); 6] = [
    (23, 25, 27, 20.0, 180.0),
    (24, 26, 28, 20.0, 180.0),
    (11, 13, 15, 25.0, 180.0),
    (12, 14, 16, 25.0, 180.0),
    (25, 27, 31, 30.0, 150.0),
    (26, 28, 32, 30.0, 150.0),
];

/// Where a landmark that belongs to no segment is carried: the face moves
/// rigidly with the shoulders' midpoint, each hand with its wrist.
fn anchor_of(landmark: usize) -> Option<End> {
    match landmark {
        0..=10 => Some(SHOULDERS),
        17 | 19 | 21 => Some(End::At(15)),
        18 | 20 | 22 => Some(End::At(16)),
        _ => None,
    }
}

/// A landmark counts for the length estimate above this visibility.
const CONFIDENT_VISIBILITY: f32 = 0.5;

/// One frame's 3D landmarks and how visible each was.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub world: &'a [Point],
    pub visibility: &'a [f32],
}

/// How much a segment's length changes across frames, in percent of its
/// fitted length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// (longest − shortest) / length.
    pub range_pct: f64,
    /// Standard deviation / length.
    pub sd_pct: f64,
}

/// A segment's fitted length and its spread before and after the fit.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentLength {
    pub name: &'static str,
    pub length_m: f64,
    pub before: Spread,
    pub after: Spread,
}

/// The fitted poses (`None` where the input had none) and the segment report.
#[derive(Debug, Clone)]
pub struct Skeleton {
    pub frames: Vec<Option<Vec<Point>>>,
    pub segments: Vec<SegmentLength>,
    /// Frames where a joint limit moved a segment.
    pub limited_frames: usize,
}

/// Fits every frame to one set of segment lengths.
pub fn fit(frames: &[Option<Observed<'_>>]) -> Skeleton {
    let lengths: Vec<f64> = SEGMENTS
        .iter()
        .map(|segment| estimate_length(segment, frames))
        .collect();
    let mut limited_frames = 0;
    let fitted: Vec<Option<Vec<Point>>> = frames
        .iter()
        .map(|frame| {
            frame.map(|observed| {
                let (points, limited) = fit_frame(observed.world, &lengths);
                limited_frames += usize::from(limited);
                points
            })
        })
        .collect();
    let segments = SEGMENTS
        .iter()
        .zip(&lengths)
        .map(|(segment, &length_m)| {
            let observed = frames.iter().flatten().map(|frame| frame.world);
            let after = fitted.iter().flatten().map(Vec::as_slice);
            SegmentLength {
                name: segment.name,
                length_m,
                before: spread(segment, observed, length_m),
                after: spread(segment, after, length_m),
            }
        })
        .collect();
    Skeleton {
        frames: fitted,
        segments,
        limited_frames,
    }
}

/// The median length over frames where both ends are confidently seen, or
/// over all frames when there are none such.
fn estimate_length(segment: &Segment, frames: &[Option<Observed<'_>>]) -> f64 {
    let confident = |frame: &Observed<'_>| {
        [segment.from, segment.to].iter().all(|end| match *end {
            End::At(i) => visible(frame, i),
            End::Mid(a, b) => visible(frame, a) && visible(frame, b),
        })
    };
    let lengths = |only_confident: bool| -> Vec<f64> {
        frames
            .iter()
            .flatten()
            .filter(|frame| !only_confident || confident(frame))
            .map(|frame| length(segment, frame.world))
            .collect()
    };
    let mut chosen = lengths(true);
    if chosen.is_empty() {
        chosen = lengths(false);
    }
    median(&mut chosen).unwrap_or(0.0)
}

fn visible(frame: &Observed<'_>, index: usize) -> bool {
    frame
        .visibility
        .get(index)
        .is_some_and(|v| *v >= CONFIDENT_VISIBILITY)
}

fn spread<'a>(segment: &Segment, frames: impl Iterator<Item = &'a [Point]>, fitted: f64) -> Spread {
    let lengths: Vec<f64> = frames.map(|points| length(segment, points)).collect();
    if lengths.is_empty() || fitted <= 0.0 {
        return Spread {
            range_pct: 0.0,
            sd_pct: 0.0,
        };
    }
    let n = lengths.len() as f64;
    let mean = lengths.iter().sum::<f64>() / n;
    let sd = (lengths.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n).sqrt();
    let (min, max) = lengths
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &l| {
            (lo.min(l), hi.max(l))
        });
    Spread {
        range_pct: (max - min) / fitted * 100.0,
        sd_pct: sd / fitted * 100.0,
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

fn length(segment: &Segment, points: &[Point]) -> f64 {
    norm(sub(end(points, segment.to), end(points, segment.from)))
}

fn end(points: &[Point], end: End) -> Point {
    match end {
        End::At(i) => points[i],
        End::Mid(a, b) => scale(add(points[a], points[b]), 0.5),
    }
}

/// Rebuilds one frame with the given lengths; says whether a joint limit
/// changed a direction. The hip midpoint stays where it was observed.
fn fit_frame(raw: &[Point], lengths: &[f64]) -> (Vec<Point>, bool) {
    let mut fitted = raw.to_vec();
    let hips = end(raw, HIPS);
    let mut limited = false;
    for (segment, &length) in SEGMENTS.iter().zip(lengths) {
        let direction = unit(sub(end(raw, segment.to), end(raw, segment.from)));
        match (segment.from, segment.to) {
            // The widths are centred on their (already placed) midpoints.
            (End::At(a), End::At(b)) if is_width(a, b) => {
                let centre = if a == 23 {
                    hips
                } else {
                    end(&fitted, SHOULDERS)
                };
                fitted[a] = sub(centre, scale(direction, length / 2.0));
                fitted[b] = add(centre, scale(direction, length / 2.0));
            }
            (from, End::Mid(a, b)) => {
                let centre = add(end(&fitted, from), scale(direction, length));
                let half = scale(sub(raw[b], raw[a]), 0.5);
                fitted[a] = sub(centre, half);
                fitted[b] = add(centre, half);
            }
            (End::At(from), End::At(to)) => {
                let (direction, moved) = within_limits(&fitted, from, to, direction);
                limited |= moved;
                fitted[to] = add(fitted[from], scale(direction, length));
            }
            (End::Mid(..), End::At(_)) => {}
        }
    }
    for (i, point) in raw.iter().enumerate() {
        if let Some(anchor) = anchor_of(i) {
            fitted[i] = add(*point, sub(end(&fitted, anchor), end(raw, anchor)));
        }
    }
    (fitted, limited)
}

fn is_width(a: usize, b: usize) -> bool {
    matches!((a, b), (23, 24) | (11, 12))
}

/// `direction` (from `joint` to `distal`), turned towards or away from the
/// proximal segment just enough to respect the joint's limits.
fn within_limits(fitted: &[Point], joint: usize, distal: usize, direction: Point) -> (Point, bool) {
    let Some(&(proximal, _, _, min, max)) = JOINT_LIMITS
        .iter()
        .find(|limit| limit.1 == joint && limit.2 == distal)
    else {
        return (direction, false);
    };
    let back = unit(sub(fitted[proximal], fitted[joint]));
    let angle = dot(back, direction).clamp(-1.0, 1.0).acos().to_degrees();
    let target = angle.clamp(min, max);
    if (target - angle).abs() < 1e-9 {
        return (direction, false);
    }
    // Rotate within the plane of the two segments.
    let across = unit(sub(direction, scale(back, dot(back, direction))));
    let across = if norm(across) < 0.5 {
        any_perpendicular(back)
    } else {
        across
    };
    let t = target.to_radians();
    (add(scale(back, t.cos()), scale(across, t.sin())), true)
}

fn any_perpendicular(v: Point) -> Point {
    let other = if v[0].abs() < 0.9 {
        [1.0, 0.0, 0.0]
    } else {
        [0.0, 1.0, 0.0]
    };
    unit(sub(other, scale(v, dot(v, other))))
}

fn add(a: Point, b: Point) -> Point {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn sub(a: Point, b: Point) -> Point {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn scale(a: Point, k: f64) -> Point {
    [a[0] * k, a[1] * k, a[2] * k]
}

fn dot(a: Point, b: Point) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: Point) -> f64 {
    dot(a, a).sqrt()
}

/// The unit vector along `a`, or zero when `a` is (nearly) zero.
fn unit(a: Point) -> Point {
    let n = norm(a);
    if n < 1e-12 {
        [0.0; 3]
    } else {
        scale(a, 1.0 / n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinematics::{joint_angle, Joint, Side};

    /// A standing body (metres, y down) whose segments are stretched by
    /// `noise` in a frame-dependent way, as a pose model's output would be.
    fn noisy_body(frame: usize, noise: f64) -> Vec<Point> {
        let wobble = |k: usize| 1.0 + noise * (((frame * 7 + k * 13) % 11) as f64 / 5.0 - 1.0);
        let mut p = vec![[0.0; 3]; 33];
        for (s, x) in [(0usize, 0.1), (1, -0.1)] {
            let w = wobble(s);
            p[23 + s] = [x, 0.0, 0.0];
            p[11 + s] = [x * 1.6, -0.5 * w, 0.0];
            p[13 + s] = [x * 1.6, -0.2 * w, 0.05];
            p[15 + s] = [x * 1.6, 0.05 * w, 0.1];
            p[25 + s] = [x, 0.45 * w, -0.05];
            p[27 + s] = [x, 0.85 * w, 0.0];
            p[29 + s] = [x, 0.9 * w, 0.05];
            p[31 + s] = [x, 0.9 * w, -0.15];
        }
        p
    }

    #[test]
    fn fitted_segments_keep_one_length() {
        let bodies: Vec<Vec<Point>> = (0..50).map(|f| noisy_body(f, 0.05)).collect();
        let visibility = vec![0.9f32; 33];
        let frames: Vec<Option<Observed<'_>>> = bodies
            .iter()
            .map(|world| {
                Some(Observed {
                    world,
                    visibility: &visibility,
                })
            })
            .collect();
        let skeleton = fit(&frames);
        let thigh = skeleton.segments.iter().find(|s| s.name == "thigh_left");
        let thigh = thigh.expect("a thigh");
        assert!(thigh.before.range_pct > 5.0, "{thigh:?}");
        for segment in &skeleton.segments {
            assert!(segment.after.range_pct < 1e-6, "{segment:?}");
        }
        // Directions are kept, so angles within the limits do not change.
        let fitted = skeleton.frames[3].as_ref().expect("fitted");
        let knee = |points: &[Point]| joint_angle(Joint::Knee, Side::Left, points);
        let (before, after) = (knee(&bodies[3]), knee(fitted));
        assert!((before.unwrap_or(0.0) - after.unwrap_or(1.0)).abs() < 1e-9);
    }

    #[test]
    fn a_knee_cannot_fold_past_its_limit() {
        let mut body = noisy_body(0, 0.0);
        body[27] = [0.1, 0.0, -0.02]; // ankle almost back at the hip
        let visibility = vec![0.9f32; 33];
        let skeleton = fit(&[Some(Observed {
            world: &body,
            visibility: &visibility,
        })]);
        let fitted = skeleton.frames[0].as_ref().expect("fitted");
        let flexion = joint_angle(Joint::Knee, Side::Left, fitted).unwrap_or(0.0);
        assert!((flexion - 160.0).abs() < 1e-6, "{flexion}");
        assert_eq!(skeleton.limited_frames, 1);
    }

    #[test]
    fn frames_without_a_person_stay_empty() {
        let skeleton = fit(&[None, None]);
        assert!(skeleton.frames.iter().all(Option::is_none));
        assert!(skeleton.segments.iter().all(|s| s.length_m == 0.0));
    }
}
