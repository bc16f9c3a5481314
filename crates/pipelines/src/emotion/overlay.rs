//! `overlay.mp4`: the second pass over the video, each face's box, person
//! number and emotion drawn on every frame (frames between two analysed
//! ones show the last analysed one's faces), encoded with the input's audio.

use std::path::Path;

use kinoflow_engine::{PipelineError, ProgressReporter};
use kinoflow_media::Probe;
use plotters::prelude::*;
use tokio_util::sync::CancellationToken;

use super::analysis::{reader_options, Observed, SeenFace};
use super::timeline::{argmax, name};
use crate::font::FAMILY;
use crate::video::{redraw, scale_between, Painter};

const BOX_COLOUR: RGBColor = RGBColor(255, 200, 0);
const LABEL_BACKGROUND: RGBColor = RGBColor(20, 20, 20);

/// Decodes `input` again and writes the overlay to `output` at `fps`;
/// progress goes from `start` to `end`.
pub async fn render(
    input: &Path,
    probe: &Probe,
    fps: f64,
    observed: &Observed,
    output: &Path,
    progress: (&ProgressReporter, f64, f64),
    cancel: &CancellationToken,
) -> Result<(), PipelineError> {
    let (reporter, start, end) = progress;
    let expected = observed.frames_decoded;
    let mut shown = 0usize;
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
            // The last analysed frame at or before this one.
            while observed
                .sampled
                .get(shown + 1)
                .is_some_and(|next| next.frame <= index)
            {
                shown += 1;
            }
            let faces = observed
                .sampled
                .get(shown)
                .filter(|sampled| sampled.frame <= index && !sampled.faces.is_empty())?
                .faces
                .clone();
            let scale = scale_between((observed.width, observed.height), size);
            let painter: Painter = Box::new(move |data| draw(data, size, &faces, scale));
            Some(painter)
        },
    )
    .await
}

/// Draws each face's box and label on one RGB frame.
fn draw(mut data: Vec<u8>, size: (u32, u32), faces: &[SeenFace], scale: (f32, f32)) -> Vec<u8> {
    let thickness = (size.1 / 240).max(2);
    let font_size = (size.1 / 30).max(14);
    let area = BitMapBackend::with_buffer(&mut data, size).into_drawing_area();
    let text = TextStyle::from((FAMILY, font_size).into_font()).color(&WHITE);
    for face in faces {
        let [x, y, w, h] = face.bbox;
        let top_left = ((x * scale.0).round() as i32, (y * scale.1).round() as i32);
        let bottom_right = (
            ((x + w) * scale.0).round() as i32,
            ((y + h) * scale.1).round() as i32,
        );
        let emotion = argmax(&face.probabilities);
        let label = format!(
            "{} {} {:.0}%",
            face.face_id,
            name(emotion),
            face.probabilities[emotion] * 100.0
        );
        // Drawing on memory cannot fail; a failed stroke would only be missing.
        let _ = area.draw(&Rectangle::new(
            [top_left, bottom_right],
            BOX_COLOUR.stroke_width(thickness),
        ));
        let label_height = font_size as i32 + 8;
        let label_width = (label.chars().count() as i32) * font_size as i32 * 6 / 10 + 10;
        let label_top = (top_left.1 - label_height).max(0);
        let _ = area.draw(&Rectangle::new(
            [
                (top_left.0, label_top),
                (top_left.0 + label_width, label_top + label_height),
            ],
            LABEL_BACKGROUND.mix(0.8).filled(),
        ));
        let _ = area.draw_text(&label, &text, (top_left.0 + 5, label_top + 4));
    }
    let _ = area.present();
    drop(area);
    data
}
