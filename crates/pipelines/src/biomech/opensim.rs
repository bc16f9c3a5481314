//! OpenSim's text formats, so that results open in the tools biomechanists
//! already use: `markers.trc` (the fitted 3D landmarks) and `angles.mot`
//! (the 3D angles over time).

use kinoflow_vision::kinematics::Point;
use kinoflow_vision::pose::LANDMARK_NAMES;

use super::analysis::Analysis;
use super::tracking::Tracked;

/// `markers.trc`: the fitted skeleton's landmarks in metres, in OpenSim's
/// axes (y up): MediaPipe's world frame turned half a turn about x.
/// Frames without a person have empty cells.
pub fn markers_trc(tracked: &Tracked, analysis: &Analysis, fps: f64) -> String {
    let frames = &analysis.skeleton.frames;
    let n = frames.len();
    let markers = LANDMARK_NAMES.len();
    let mut trc = String::new();
    trc.push_str("PathFileType\t4\t(X/Y/Z)\tmarkers.trc\n");
    trc.push_str("DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames\n");
    trc.push_str(&format!(
        "{fps:.4}\t{fps:.4}\t{n}\t{markers}\tm\t{fps:.4}\t1\t{n}\n"
    ));
    trc.push_str("Frame#\tTime");
    for name in LANDMARK_NAMES {
        trc.push_str(&format!("\t{name}\t\t"));
    }
    trc.push_str("\n\t");
    for k in 1..=markers {
        trc.push_str(&format!("\tX{k}\tY{k}\tZ{k}"));
    }
    trc.push_str("\n\n");
    for (i, (points, frame)) in frames.iter().zip(&tracked.frames).enumerate() {
        trc.push_str(&format!("{}\t{:.5}", i + 1, frame.time_s));
        for k in 0..markers {
            match points.as_ref().and_then(|p| p.get(k)) {
                Some(p) => {
                    let [x, y, z] = opensim_axes(*p);
                    trc.push_str(&format!("\t{x:.5}\t{y:.5}\t{z:.5}"));
                }
                None => trc.push_str("\t\t\t"),
            }
        }
        trc.push('\n');
    }
    trc
}

fn opensim_axes(p: Point) -> Point {
    [p[0], -p[1], -p[2]]
}

/// `angles.mot`: time and every 3D angle in degrees, one row per frame.
/// OpenSim cannot read empty cells, so frames without a person are left out.
pub fn angles_mot(tracked: &Tracked, analysis: &Analysis) -> String {
    let series: Vec<_> = analysis.angles.iter().filter(|s| !s.planar).collect();
    let rows: Vec<usize> = (0..tracked.frames.len())
        .filter(|&i| series.iter().all(|s| s.values[i].is_some()))
        .collect();
    let mut mot = String::from("angles.mot\nversion=1\n");
    mot.push_str(&format!(
        "nRows={}\nnColumns={}\ninDegrees=yes\nendheader\ntime",
        rows.len(),
        series.len() + 1
    ));
    for s in &series {
        mot.push('\t');
        mot.push_str(s.name().trim_end_matches("_deg"));
    }
    mot.push('\n');
    for i in rows {
        mot.push_str(&format!("{:.5}", tracked.frames[i].time_s));
        for s in &series {
            mot.push_str(&format!("\t{:.4}", s.values[i].unwrap_or_default()));
        }
        mot.push('\n');
    }
    mot
}
