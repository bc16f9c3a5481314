//! The data files of a `biomech` run: `keypoints.json` (the model's raw
//! output), `angles.csv` (every angle, frame by frame) and `summary.json`.

use kinoflow_vision::pose::LANDMARK_NAMES;
use serde_json::{json, Value};

use super::analysis::{Analysis, AngleSeries};
use super::tracking::Tracked;

/// `keypoints.json`: each frame's landmarks in pixels with their visibility,
/// and world landmarks in metres; empty lists where nobody was found.
pub fn keypoints(tracked: &Tracked, fps: f64) -> Value {
    let frames: Vec<Value> = tracked
        .frames
        .iter()
        .enumerate()
        .map(|(i, frame)| {
            let (landmarks, world) = frame.pose.as_ref().map_or((vec![], vec![]), |pose| {
                (
                    pose.landmarks
                        .iter()
                        .map(|l| json!([round(l.x, 2), round(l.y, 2), round(l.visibility, 4)]))
                        .collect(),
                    pose.world
                        .iter()
                        .map(|w| json!([round(w.x, 5), round(w.y, 5), round(w.z, 5)]))
                        .collect(),
                )
            });
            json!({
                "frame": i,
                "time_s": frame.time_s,
                "detected": frame.pose.is_some(),
                "landmarks": landmarks,
                "world": world,
            })
        })
        .collect();
    json!({
        "fps": fps,
        "width": tracked.width,
        "height": tracked.height,
        "landmark_names": LANDMARK_NAMES.as_slice(),
        "frames": frames,
    })
}

fn round(value: f32, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (f64::from(value) * factor).round() / factor
}

/// `angles.csv`: `frame,time_s` and one column per angle, 3D first;
/// empty cells where nobody was found.
pub fn angles_csv(tracked: &Tracked, analysis: &Analysis) -> String {
    let mut csv = String::from("frame,time_s");
    for series in &analysis.angles {
        csv.push(',');
        csv.push_str(&series.name());
    }
    csv.push('\n');
    for (i, frame) in tracked.frames.iter().enumerate() {
        csv.push_str(&format!("{i},{:.4}", frame.time_s));
        for series in &analysis.angles {
            csv.push(',');
            if let Some(value) = series.values[i] {
                csv.push_str(&format!("{value:.2}"));
            }
        }
        csv.push('\n');
    }
    csv
}

/// What the run chose, for the summary.
pub struct Settings<'a> {
    pub joints: &'a [&'static str],
    pub side: &'static str,
    pub model: &'static str,
    /// What ran the models: `onnxruntime` or `tract`.
    pub inference: &'static str,
    pub filter_hz: f64,
}

/// `summary.json`: per angle its extremes, mean, range of motion and when the
/// extremes happened; how often the person was found; the filter; the
/// skeleton's segment lengths and how much they varied before and after the fit.
pub fn summary(tracked: &Tracked, analysis: &Analysis, fps: f64, settings: &Settings) -> Value {
    let detected = tracked.frames.iter().filter(|f| f.pose.is_some()).count();
    let angles: serde_json::Map<String, Value> = analysis
        .angles
        .iter()
        .filter_map(|series| Some((series.name(), angle_summary(series, tracked)?)))
        .collect();
    let segments: Vec<Value> = analysis
        .skeleton
        .segments
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "length_m": s.length_m,
                "before_fit": {"range_pct": s.before.range_pct, "sd_pct": s.before.sd_pct},
                "after_fit": {"range_pct": s.after.range_pct, "sd_pct": s.after.sd_pct},
            })
        })
        .collect();
    json!({
        "frames": tracked.frames.len(),
        "fps": fps,
        "duration_s": tracked.frames.len() as f64 / fps,
        "frames_with_person": detected,
        "detection_rate": detected as f64 / tracked.frames.len().max(1) as f64,
        "selection": {"joints": settings.joints, "side": settings.side, "model": settings.model},
        "inference": settings.inference,
        "filter": {
            "type": "zero-phase 4th-order Butterworth low-pass",
            "cutoff_hz": settings.filter_hz,
            "applied": analysis.filter_note.is_none(),
            "note": analysis.filter_note,
            "max_gap_filled_frames": kinoflow_vision::kinematics::MAX_GAP_FRAMES,
            "outliers": "Hampel, 7-sample window, 3 scaled MADs",
        },
        "angles": angles,
        "skeleton": {
            "segments": segments,
            "frames_at_joint_limits": analysis.skeleton.limited_frames,
        },
    })
}

fn angle_summary(series: &AngleSeries, tracked: &Tracked) -> Option<Value> {
    let present = series
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)));
    let (mut count, mut sum) = (0usize, 0.0);
    let (mut min, mut max) = ((0, f64::INFINITY), (0, f64::NEG_INFINITY));
    for (i, value) in present {
        count += 1;
        sum += value;
        if value < min.1 {
            min = (i, value);
        }
        if value > max.1 {
            max = (i, value);
        }
    }
    if count == 0 {
        return None;
    }
    let time = |i: usize| tracked.frames[i].time_s;
    Some(json!({
        "min_deg": min.1,
        "max_deg": max.1,
        "mean_deg": sum / count as f64,
        "range_of_motion_deg": max.1 - min.1,
        "time_of_min_s": time(min.0),
        "time_of_max_s": time(max.0),
        "samples": count,
        "outliers_replaced": series.outliers,
        "gaps_filled": series.filled,
    }))
}
