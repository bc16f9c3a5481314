//! The charts of a `relevance` run: the top variables' importance (bars
//! with their spread, each group in a colour of its own) and, for the top
//! variables, how the prediction moves with them (their SHAP values against
//! their values).

use std::path::Path;

use kinoflow_tabular::ranking::RankedVariable;
use plotters::prelude::*;

use crate::font::{ensure_registered, FAMILY};

/// Variables in the importance chart.
const TOP: usize = 15;
const WIDTH: u32 = 1100;
const ROW_HEIGHT: u32 = 36;
/// Colours of groups (a variable alone is grey).
const GROUP_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];
const ALONE: RGBColor = RGBColor(127, 127, 127);

/// `chart_importance.png`: the top variables' permutation importance (the
/// score lost when shuffled, with its spread), longest bar first; variables
/// of one group share a colour and say so.
pub fn importance(path: &Path, ranking: &[RankedVariable]) -> Result<(), String> {
    ensure_registered();
    let shown: Vec<&RankedVariable> = ranking.iter().take(TOP).collect();
    let height = 140 + ROW_HEIGHT * shown.len().max(1) as u32;
    let root = BitMapBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let top = shown
        .iter()
        .map(|v| v.permutation_mean + v.permutation_std)
        .fold(0.0, f64::max)
        .max(1e-6);
    let rows = shown.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "What drives the target (score lost when a variable is shuffled)",
            (FAMILY, 24),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(260)
        // A segmented axis of 0..n has n + 1 segments: one a variable.
        .build_cartesian_2d(0.0..top * 1.1, (0..rows - 1).into_segmented())
        .map_err(|e| e.to_string())?;
    let labels: Vec<String> = shown.iter().map(|v| label(v)).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows)
        .y_label_formatter(&|segment| match segment {
            SegmentValue::CenterOf(index) => (rows - 1)
                .checked_sub(*index)
                .and_then(|i| labels.get(i))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc("Permutation importance (mean ± spread over folds and repeats)")
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(|e| e.to_string())?;
    for (index, variable) in shown.iter().enumerate() {
        let row = rows - 1 - index;
        let colour = colour_of(variable);
        let mean = variable.permutation_mean.max(0.0);
        chart
            .draw_series(std::iter::once({
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(row)),
                        (mean, SegmentValue::Exact(row + 1)),
                    ],
                    colour.filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                bar
            }))
            .map_err(|e| e.to_string())?;
        let spread = variable.permutation_std;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![
                    ((mean - spread).max(0.0), SegmentValue::CenterOf(row)),
                    (mean + spread, SegmentValue::CenterOf(row)),
                ],
                BLACK.stroke_width(2),
            )))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

/// A bar's label: the name, and its group when it has company.
fn label(variable: &RankedVariable) -> String {
    if variable.group_members.len() > 1 {
        format!("{}  [group {}]", variable.feature, variable.group)
    } else {
        variable.feature.clone()
    }
}

fn colour_of(variable: &RankedVariable) -> RGBColor {
    if variable.group_members.len() > 1 {
        GROUP_COLOURS[variable.group % GROUP_COLOURS.len()]
    } else {
        ALONE
    }
}

/// `chart_dependence_<variable>.png`: each explained row's value of the
/// variable against how much it moved the prediction.
pub fn dependence(path: &Path, variable: &RankedVariable, target: &str) -> Result<(), String> {
    ensure_registered();
    let points: Vec<(f64, f64)> = variable
        .dependence
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (x_range, y_range) = ranges(&points);
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("How {target} moves with {}", variable.feature),
            (FAMILY, 24),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(x_range, y_range)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(variable.feature.as_str())
        .y_desc(format!("Effect on the predicted {target}"))
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 2, GROUP_COLOURS[0].mix(0.5).filled())),
        )
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// The axes' ranges around `points`, never empty.
fn ranges(points: &[(f64, f64)]) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let span = |values: &mut dyn Iterator<Item = f64>| {
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if low.is_finite() && high > low {
            let pad = (high - low) * 0.05;
            (low - pad)..(high + pad)
        } else if low.is_finite() {
            (low - 1.0)..(low + 1.0)
        } else {
            0.0..1.0
        }
    };
    (
        span(&mut points.iter().map(|p| p.0)),
        span(&mut points.iter().map(|p| p.1)),
    )
}
