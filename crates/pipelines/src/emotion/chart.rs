//! `chart_emotions.png`: one panel per person, their smoothed probability of
//! each emotion over the video's time, in colours that stay the same from
//! panel to panel.

use std::path::Path;

use kinoflow_vision::face::EMOTIONS;
use plotters::prelude::*;

use super::timeline::Person;
use crate::font::{ensure_registered, FAMILY};

/// More people than this are left out of the chart (their data is in the files).
pub const MAX_PANELS: usize = 6;
const WIDTH: u32 = 1200;
const PANEL_HEIGHT: u32 = 320;
/// angry, disgust, fear, happy, sad, surprise, neutral.
const COLOURS: [RGBColor; 7] = [
    RGBColor(214, 39, 40),
    RGBColor(140, 86, 75),
    RGBColor(148, 103, 189),
    RGBColor(44, 160, 44),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(127, 127, 127),
];

/// Draws the first [`MAX_PANELS`] people into a PNG at `path`; `duration_s`
/// is the time axis' length. With nobody seen, one empty panel says so.
pub fn draw(path: &Path, people: &[Person], duration_s: f64) -> Result<(), String> {
    ensure_registered();
    let panels = people.len().clamp(1, MAX_PANELS);
    let root = BitMapBackend::new(path, (WIDTH, PANEL_HEIGHT * panels as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let areas = root.split_evenly((panels, 1));
    if people.is_empty() {
        let style = TextStyle::from((FAMILY, 28).into_font()).color(&BLACK);
        areas[0]
            .draw_text("No face was found in the video.", &style, (40, 140))
            .map_err(|e| e.to_string())?;
    }
    for (area, person) in areas.iter().zip(people) {
        panel(area, person, duration_s.max(1e-3))?;
    }
    root.present().map_err(|e| e.to_string())
}

fn panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    person: &Person,
    duration_s: f64,
) -> Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Person {}", person.face_id), (FAMILY, 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..duration_s, 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("Time (s)")
        .y_desc("Probability")
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 18))
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, emotion) in EMOTIONS.iter().enumerate() {
        let colour = COLOURS[k];
        let points = person
            .times
            .iter()
            .zip(&person.smoothed)
            .map(|(&t, p)| (t, f64::from(p[k])));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(*emotion)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}
