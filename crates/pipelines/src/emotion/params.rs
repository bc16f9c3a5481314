//! The `emotion` pipeline's parameters: their schema and their typed form.

use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Deserialize)]
pub struct EmotionParams {
    /// Frames analysed per second of video, chosen by timestamp; 0: every frame.
    #[serde(default = "default_sample_fps")]
    pub sample_fps: f64,
    /// Faces narrower or shorter than this, in the video's pixels, are
    /// counted as skipped rather than read.
    #[serde(default = "default_min_face_px")]
    pub min_face_px: u32,
    /// The detector's least score for a face.
    #[serde(default = "default_min_score")]
    pub min_score: f32,
    /// The window the timeline's probabilities are averaged over, in seconds.
    #[serde(default = "default_smooth_s")]
    pub smooth_s: f64,
    #[serde(default = "default_overlay")]
    pub overlay: bool,
    /// Videos longer than this many seconds are refused at submission.
    #[serde(default)]
    pub max_duration_s: Option<f64>,
}

const DEFAULT_SAMPLE_FPS: f64 = 24.0;
const DEFAULT_MIN_FACE_PX: u32 = 24;
const DEFAULT_MIN_SCORE: f32 = 0.5;
const DEFAULT_SMOOTH_S: f64 = 0.5;

fn default_sample_fps() -> f64 {
    DEFAULT_SAMPLE_FPS
}

fn default_min_face_px() -> u32 {
    DEFAULT_MIN_FACE_PX
}

fn default_min_score() -> f32 {
    DEFAULT_MIN_SCORE
}

fn default_smooth_s() -> f64 {
    DEFAULT_SMOOTH_S
}

fn default_overlay() -> bool {
    true
}

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "sample_fps": {"type": "number", "minimum": 0, "maximum": 240, "default": DEFAULT_SAMPLE_FPS,
                           "description": "Frames analysed per second of video, chosen by their timestamps; 0 analyses every frame."},
            "min_face_px": {"type": "integer", "minimum": 8, "maximum": 4096, "default": DEFAULT_MIN_FACE_PX,
                            "description": "Faces smaller than this (width or height, in the video's pixels) are counted as skipped, not read: too few pixels to tell an emotion."},
            "min_score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": DEFAULT_MIN_SCORE,
                          "description": "The face detector's least confidence for a face."},
            "smooth_s": {"type": "number", "minimum": 0, "maximum": 10, "default": DEFAULT_SMOOTH_S,
                         "description": "Each person's probabilities in timeline.json are averaged over a window this long, in seconds; emotions.csv keeps the raw ones."},
            "overlay": {"type": "boolean", "default": true,
                        "description": "Draw each face's box, person number and emotion on the video (overlay.mp4)."},
            "max_duration_s": {"type": "number", "exclusiveMinimum": 0,
                               "description": "Refuse videos longer than this many seconds at submission; no limit when left out."}
        },
        "additionalProperties": false
    })
}
