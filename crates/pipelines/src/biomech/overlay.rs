//! `overlay.mp4`: the second pass over the video, each frame with the
//! skeleton and the selected angles drawn on it, encoded with the input's
//! audio, frame for frame.

use std::path::Path;

use kinoflow_engine::{PipelineError, ProgressReporter};
use kinoflow_media::Probe;
use kinoflow_vision::kinematics::{Joint, Side};
use kinoflow_vision::pose::Pose;
use plotters::prelude::*;
use tokio_util::sync::CancellationToken;

use super::analysis::{Analysis, AngleSeries};
use super::tracking::{reader_options, Tracked};
use crate::font::FAMILY;
use crate::video::{redraw, scale_between, Painter};

/// The body's bones, as pairs of MediaPipe landmark indices.
const BONES: [(usize, usize); 18] = [
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (27, 29),
    (29, 31),
    (27, 31),
    (24, 26),
    (26, 28),
    (28, 30),
    (30, 32),
    (28, 32),
];
/// Landmarks less visible than this are not drawn.
const MIN_VISIBILITY: f32 = 0.3;
const BONE_COLOUR: RGBColor = RGBColor(0, 230, 120);
const LABEL_BACKGROUND: RGBColor = RGBColor(20, 20, 20);

/// What to draw: the series of the selected joints and sides.
pub struct Selection<'a> {
    pub series: Vec<&'a AngleSeries>,
}

impl<'a> Selection<'a> {
    /// The 3D series of `joints` on `sides` (the trunk whatever the side).
    pub fn of(analysis: &'a Analysis, joints: &[Joint], sides: &[Side]) -> Self {
        let series = analysis
            .angles
            .iter()
            .filter(|s| !s.planar && joints.contains(&s.joint))
            .filter(|s| s.side.is_none_or(|side| sides.contains(&side)))
            .collect();
        Self { series }
    }
}

/// Decodes `input` again and writes the overlay video to `output`; progress
/// goes from `start` to `end`.
#[allow(clippy::too_many_arguments)]
pub async fn render(
    input: &Path,
    probe: &Probe,
    fps: f64,
    tracked: &Tracked,
    selection: &Selection<'_>,
    output: &Path,
    progress: (&ProgressReporter, f64, f64),
    cancel: &CancellationToken,
) -> Result<(), PipelineError> {
    let (reporter, start, end) = progress;
    let expected = tracked.frames.len() as u64;
    redraw(
        input,
        probe,
        &reader_options(),
        fps,
        output,
        expected,
        (reporter, (start, end)),
        cancel,
        |index, size| {
            let index = usize::try_from(index).ok()?;
            let tracked_frame = tracked.frames.get(index)?;
            let scale = scale_between((tracked.width, tracked.height), size);
            let labels = labels_at(selection, index);
            let pose = tracked_frame.pose.clone();
            let painter: Painter =
                Box::new(move |data| draw(data, size, pose.as_ref(), scale, &labels));
            Some(painter)
        },
    )
    .await
}

/// An angle to write next to its joint.
struct Label {
    joint: Joint,
    side: Option<Side>,
    degrees: f64,
}

fn labels_at(selection: &Selection<'_>, index: usize) -> Vec<Label> {
    selection
        .series
        .iter()
        .filter_map(|s| {
            Some(Label {
                joint: s.joint,
                side: s.side,
                degrees: s.values.get(index).copied().flatten()?,
            })
        })
        .collect()
}

/// Draws the skeleton and the labels on one RGB frame.
fn draw(
    mut data: Vec<u8>,
    size: (u32, u32),
    pose: Option<&Pose>,
    scale: (f32, f32),
    labels: &[Label],
) -> Vec<u8> {
    if let Some(pose) = pose {
        let point = |i: usize| {
            let l = pose.landmarks[i];
            (
                (l.x * scale.0).round() as i32,
                (l.y * scale.1).round() as i32,
            )
        };
        let seen = |i: usize| pose.landmarks[i].visibility >= MIN_VISIBILITY;
        let thickness = (size.1 / 240).max(2);
        let area = BitMapBackend::with_buffer(&mut data, size).into_drawing_area();
        // Drawing on memory cannot fail; a failed stroke would only be missing.
        for &(a, b) in &BONES {
            if seen(a) && seen(b) {
                let _ = area.draw(&PathElement::new(
                    vec![point(a), point(b)],
                    BONE_COLOUR.stroke_width(thickness),
                ));
            }
        }
        for i in 11..pose.landmarks.len() {
            if seen(i) {
                let _ = area.draw(&Circle::new(point(i), thickness + 2, WHITE.filled()));
            }
        }
        let text_size = f64::from((size.1 / 28).max(14));
        for label in labels {
            let anchor = label_anchor(label, &point);
            let text = format!("{:.0}°", label.degrees);
            let width = (text_size * 0.6 * text.chars().count() as f64) as i32 + 8;
            let height = text_size as i32 + 6;
            let corner = (anchor.0 + 10, anchor.1 - height / 2);
            let _ = area.draw(&Rectangle::new(
                [corner, (corner.0 + width, corner.1 + height)],
                LABEL_BACKGROUND.mix(0.7).filled(),
            ));
            let _ = area.draw(&Text::new(
                text,
                (corner.0 + 4, corner.1 + 3),
                (FAMILY, text_size).into_font().color(&WHITE),
            ));
        }
        let _ = area.present();
    }
    data
}

/// Where an angle is written: at its joint (the hips' midpoint for the trunk).
fn label_anchor(label: &Label, point: &impl Fn(usize) -> (i32, i32)) -> (i32, i32) {
    let s = match label.side {
        Some(Side::Right) => 1,
        _ => 0,
    };
    let at = match label.joint {
        Joint::Knee => 25,
        Joint::Hip => 23,
        Joint::Ankle => 27,
        Joint::Elbow => 13,
        Joint::Shoulder => 11,
        Joint::Trunk => {
            let (l, r) = (point(23), point(24));
            return ((l.0 + r.0) / 2, (l.1 + r.1) / 2);
        }
    };
    point(at + s)
}
