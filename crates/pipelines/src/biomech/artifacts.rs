//! The names of the artifacts a `biomech` job writes, for those who serve
//! them under names of their own.

/// Every frame's landmarks, in pixels and in metres.
pub const KEYPOINTS: &str = "keypoints.json";
/// Every joint's angle in every frame.
pub const ANGLES_CSV: &str = "angles.csv";
/// Range of motion and the other statistics of each angle.
pub const SUMMARY: &str = "summary.json";
/// The markers, for OpenSim.
pub const MARKERS_TRC: &str = "markers.trc";
/// The angles, for OpenSim.
pub const ANGLES_MOT: &str = "angles.mot";
/// The video with the skeleton and the angles drawn on it.
pub const OVERLAY: &str = "overlay.mp4";

const CHART_PREFIX: &str = "chart_";
const CHART_SUFFIX: &str = ".png";

/// The chart of a joint, named as the `joint` parameter names it (`knee`):
/// `chart_knee.png`.
pub fn chart(joint: &str) -> String {
    format!("{CHART_PREFIX}{joint}{CHART_SUFFIX}")
}

/// The joint a chart is of (`knee` for `chart_knee.png`); `None` for an
/// artifact that is not a chart.
pub fn chart_joint(artifact: &str) -> Option<&str> {
    artifact
        .strip_prefix(CHART_PREFIX)?
        .strip_suffix(CHART_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_name_gives_back_its_joint() {
        assert_eq!(chart_joint(&chart("knee")), Some("knee"));
        assert_eq!(chart_joint(ANGLES_CSV), None);
    }
}
