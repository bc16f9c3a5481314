//! `chart_<joint>.png`: a joint's filtered 3D angle over time, one line per
//! side, with labelled axes and units.

use std::path::Path;

use plotters::prelude::*;

use kinoflow_vision::kinematics::Side;

use super::analysis::{joint_name, AngleSeries};
use crate::font::{ensure_registered, FAMILY};

const SIZE: (u32, u32) = (1200, 600);
const LEFT_COLOUR: RGBColor = RGBColor(31, 119, 180);
const RIGHT_COLOUR: RGBColor = RGBColor(214, 39, 40);

/// Draws `series` (one joint, its sides) against `times` into a PNG at `path`.
pub fn draw(
    path: &Path,
    title: &str,
    series: &[&AngleSeries],
    times: &[f64],
) -> Result<(), String> {
    ensure_registered();
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (low, high) = value_range(series);
    let end = times.last().copied().unwrap_or(0.0).max(1e-3);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FAMILY, 30))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..end, low..high)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("Time (s)")
        .y_desc("Angle (°)")
        .label_style((FAMILY, 18))
        .axis_desc_style((FAMILY, 20))
        .draw()
        .map_err(|e| e.to_string())?;
    for s in series {
        let (label, colour) = match s.side {
            Some(Side::Left) => ("left", LEFT_COLOUR),
            Some(Side::Right) => ("right", RIGHT_COLOUR),
            None => (joint_name(s.joint), LEFT_COLOUR),
        };
        let style = colour.stroke_width(3);
        for (k, run) in runs(&s.values, times).into_iter().enumerate() {
            let drawn = chart
                .draw_series(LineSeries::new(run, style))
                .map_err(|e| e.to_string())?;
            if k == 0 {
                drawn.label(label).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 20))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// The y range: the data's, padded, never narrower than 10°.
fn value_range(series: &[&AngleSeries]) -> (f64, f64) {
    let values = series.iter().flat_map(|s| s.values.iter().flatten());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    if !low.is_finite() {
        return (0.0, 180.0);
    }
    let middle = (low + high) / 2.0;
    let half = ((high - low) / 2.0 * 1.1).max(5.0);
    (middle - half, middle + half)
}

/// The unbroken stretches of a series as (time, value) points, so that gaps
/// show as gaps rather than as lines across them.
fn runs(values: &[Option<f64>], times: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (value, &time) in values.iter().zip(times) {
        match value {
            Some(v) => current.push((time, *v)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_a_series() {
        let values = [Some(1.0), Some(2.0), None, None, Some(3.0)];
        let times = [0.0, 0.1, 0.2, 0.3, 0.4];
        let runs = runs(&values, &times);
        assert_eq!(runs, vec![vec![(0.0, 1.0), (0.1, 2.0)], vec![(0.4, 3.0)]]);
    }
}
