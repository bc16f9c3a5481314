//! The names of the artifacts an `emotion` job writes, for those who serve
//! them under names of their own.

/// One row per face per analysed frame: box, score, the 7 probabilities, label.
pub const EMOTIONS_CSV: &str = "emotions.csv";
/// Per person: smoothed probabilities over time, labels, segments of one emotion.
pub const TIMELINE: &str = "timeline.json";
/// Per person: time on screen, dominant emotion, share of each.
pub const SUMMARY: &str = "summary.json";
/// One timeline chart per person.
pub const CHART: &str = "chart_emotions.png";
/// The video with each face's box, person number and emotion drawn on it.
pub const OVERLAY: &str = "overlay.mp4";
