//! The `frames` pipeline's parameters: their schema, the rules between them,
//! and their typed form.

use kinoflow_engine::FieldError;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Jpg,
    Png,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The frame on screen at each wanted time.
    #[default]
    Exact,
    /// The keyframe nearest each wanted time: fastest.
    Keyframes,
}

/// Which frames: exactly one of the three selectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selector {
    Interval(f64),
    EveryNFrames(u64),
    Count(u64),
}

#[derive(Debug, Clone, Deserialize)]
pub struct FramesParams {
    pub interval_s: Option<f64>,
    pub every_n_frames: Option<u64>,
    pub count: Option<u64>,
    #[serde(default)]
    pub format: Format,
    #[serde(default = "default_quality")]
    pub quality: u8,
    pub max_width: Option<u32>,
    pub max_height: Option<u32>,
    #[serde(default)]
    pub mode: Mode,
    pub start_s: Option<f64>,
    pub end_s: Option<f64>,
}

fn default_quality() -> u8 {
    90
}

/// Enough for hours of video at one frame a second.
pub const MAX_COUNT: u64 = 100_000;

/// A millisecond: shorter than the time between any two frames (1000 fps).
pub const MIN_INTERVAL_S: f64 = 0.001;

impl FramesParams {
    pub fn selector(&self) -> Option<Selector> {
        match (self.interval_s, self.every_n_frames, self.count) {
            (Some(seconds), None, None) => Some(Selector::Interval(seconds)),
            (None, Some(n), None) => Some(Selector::EveryNFrames(n)),
            (None, None, Some(n)) => Some(Selector::Count(n)),
            _ => None,
        }
    }
}

pub fn schema() -> Value {
    json!({
        "type": "object",
        "description": "Give exactly one of interval_s, every_n_frames and count.",
        "properties": {
            "interval_s": {"type": "number", "minimum": MIN_INTERVAL_S,
                           "description": "One frame every this many seconds."},
            "every_n_frames": {"type": "integer", "minimum": 1,
                               "description": "Every Nth frame."},
            "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT,
                      "description": "This many frames, evenly spaced from start to end."},
            "format": {"enum": ["jpg", "png"], "default": "jpg"},
            "quality": {"type": "integer", "minimum": 1, "maximum": 100, "default": 90,
                        "description": "JPEG quality."},
            "max_width": {"type": "integer", "minimum": 2, "maximum": 16384},
            "max_height": {"type": "integer", "minimum": 2, "maximum": 16384},
            "mode": {"enum": ["exact", "keyframes"], "default": "exact",
                     "description": "exact: the frame on screen at each time; keyframes: the nearest keyframe (fastest)."},
            "start_s": {"type": "number", "minimum": 0},
            "end_s": {"type": "number", "exclusiveMinimum": 0}
        },
        "additionalProperties": false
    })
}

/// The rules between fields.
pub fn check(params: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let given: Vec<&str> = ["interval_s", "every_n_frames", "count"]
        .into_iter()
        .filter(|key| params.get(key).is_some())
        .collect();
    if given.len() != 1 {
        let field = given.get(1).copied().unwrap_or("interval_s");
        errors.push(FieldError::new(
            format!("params.{field}"),
            "give exactly one of interval_s, every_n_frames and count",
        ));
    }
    if let (Some(start), Some(end)) = (
        params.get("start_s").and_then(Value::as_f64),
        params.get("end_s").and_then(Value::as_f64),
    ) {
        if end <= start {
            errors.push(FieldError::new("params.end_s", "must be after start_s"));
        }
    }
    errors
}
