//! The `render` pipeline's parameters, a render spec: the frame, the scenes
//! with their media (upload ids) and narration, the music, captions,
//! transitions and voice. Field names of clients that say `duration`,
//! `durationSeconds` or `wordTimings` are accepted too.

use serde::Deserialize;
use serde_json::{json, Value};

use kinoflow_engine::{FieldError, UploadRef};
use kinoflow_media::MediaKind;

use super::fonts;
pub use crate::voice::{VoiceSettings, WordTiming};

/// The most scenes a render may have.
pub const MAX_SCENES: usize = 200;
/// The longest a scene may last, in seconds.
pub const MAX_SCENE_S: f64 = 600.0;

#[derive(Debug, Clone, Deserialize)]
pub struct RenderSpec {
    #[serde(default = "default_width")]
    pub width: u32,
    #[serde(default = "default_height")]
    pub height: u32,
    #[serde(default = "default_fps")]
    pub fps: u32,
    pub scenes: Vec<Scene>,
    /// An upload id: music under the whole video.
    #[serde(default)]
    pub music: Option<String>,
    #[serde(default = "default_music_gain")]
    pub music_gain: f64,
    /// Lower the music under speech.
    #[serde(default = "yes")]
    pub ducking: bool,
    /// Bring the mix to −14 LUFS, true peak ≤ −1 dBTP.
    #[serde(default = "yes")]
    pub normalise_loudness: bool,
    #[serde(default)]
    pub captions: Captions,
    #[serde(default)]
    pub transition: Transition,
    #[serde(default)]
    pub voice: VoiceSettings,
    #[serde(default)]
    pub encoding: Encoding,
    /// Leave out a scene whose media cannot be read (with a warning) rather
    /// than fail.
    #[serde(default)]
    pub skip_bad_scenes: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Scene {
    /// An upload id: a still shown for the scene.
    #[serde(default)]
    pub image: Option<String>,
    /// An upload id: a clip (its sound is not used).
    #[serde(default)]
    pub video: Option<String>,
    /// What is said; spoken by the voice unless `audio` is given.
    #[serde(default)]
    pub narration: Option<String>,
    /// An upload id: the narration, recorded.
    #[serde(default)]
    pub audio: Option<String>,
    #[serde(default, alias = "wordTimings")]
    pub word_timings: Option<Vec<WordTiming>>,
    #[serde(default, alias = "duration", alias = "durationSeconds")]
    pub duration_s: Option<f64>,
    #[serde(default)]
    pub motion: Option<Motion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Motion {
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Captions {
    pub enabled: bool,
    pub font: String,
    /// Text height in pixels of a 1920-high frame (scaled with the frame).
    pub size: u32,
    pub colour: String,
    /// The colour of the word being said.
    pub highlight: String,
    pub position: CaptionPosition,
    /// The most words on a caption.
    pub words_per_caption: usize,
}

impl Default for Captions {
    fn default() -> Self {
        Self {
            enabled: true,
            font: fonts::DEFAULT.to_owned(),
            size: 72,
            colour: "#FFFFFF".to_owned(),
            highlight: "#FFD400".to_owned(),
            position: CaptionPosition::Bottom,
            words_per_caption: 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptionPosition {
    Top,
    Middle,
    Bottom,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Transition {
    pub kind: TransitionKind,
    pub duration_s: f64,
}

impl Default for Transition {
    fn default() -> Self {
        Self {
            kind: TransitionKind::Crossfade,
            duration_s: 0.3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    Crossfade,
    Cut,
}

/// How the video is encoded (H.264): a quality (`crf`) or a bitrate.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Encoding {
    pub preset: String,
    pub crf: u32,
    /// Kilobits a second; replaces `crf` when given.
    pub video_kbps: Option<u32>,
}

impl Default for Encoding {
    fn default() -> Self {
        Self {
            preset: "veryfast".to_owned(),
            crf: 21,
            video_kbps: None,
        }
    }
}

fn default_width() -> u32 {
    1080
}

fn default_height() -> u32 {
    1920
}

fn default_fps() -> u32 {
    30
}

fn default_music_gain() -> f64 {
    0.12
}

fn yes() -> bool {
    true
}

pub fn schema() -> Value {
    let upload = |what: &str| json!({"type": "string", "minLength": 1, "description": what});
    let seconds = json!({"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SCENE_S,
                         "description": "How long the scene lasts when it has no narration (default 5 s)."});
    let timings = json!({"type": "array", "items": {
        "type": "object",
        "properties": {"word": {"type": "string"}, "start": {"type": "number", "minimum": 0},
                       "end": {"type": "number", "minimum": 0}},
        "required": ["word", "start", "end"]},
        "description": "When each word of the narration is said, in seconds from the scene's start."});
    json!({
        "type": "object",
        "properties": {
            "width": {"type": "integer", "minimum": 16, "maximum": 4096, "multipleOf": 2, "default": 1080,
                      "description": "Frame width in pixels (even)."},
            "height": {"type": "integer", "minimum": 16, "maximum": 4096, "multipleOf": 2, "default": 1920,
                       "description": "Frame height in pixels (even)."},
            "fps": {"type": "integer", "minimum": 1, "maximum": 60, "default": 30},
            "scenes": {"type": "array", "minItems": 1, "maxItems": MAX_SCENES, "items": {
                "type": "object",
                "properties": {
                    "image": upload("An image upload shown for the scene, centre-cropped to the frame."),
                    "video": upload("A video upload, cropped to the frame, trimmed or held on its last frame."),
                    "narration": {"type": "string", "maxLength": 5000,
                                  "description": "What is said; spoken by the voice unless audio is given."},
                    "audio": upload("An audio upload: the narration, recorded."),
                    "word_timings": timings.clone(),
                    "wordTimings": timings,
                    "duration_s": seconds.clone(),
                    "duration": seconds.clone(),
                    "durationSeconds": seconds,
                    "motion": {"type": "string", "enum": ["zoom_in", "zoom_out", "pan_left", "pan_right", "none"],
                               "description": "How a still moves (default: zoom in and out in turn)."}
                },
                "additionalProperties": false
            }},
            "music": upload("An audio upload played under the whole video, looped or trimmed."),
            "music_gain": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.12},
            "ducking": {"type": "boolean", "default": true, "description": "Lower the music under speech."},
            "normalise_loudness": {"type": "boolean", "default": true,
                                   "description": "Bring the mix to −14 LUFS with true peaks at most −1 dBTP."},
            "captions": {"type": "object", "properties": {
                "enabled": {"type": "boolean", "default": true},
                "font": {"type": "string", "enum": fonts::NAMES, "default": fonts::DEFAULT},
                "size": {"type": "integer", "minimum": 12, "maximum": 300, "default": 72},
                "colour": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$", "default": "#FFFFFF"},
                "highlight": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$", "default": "#FFD400"},
                "position": {"type": "string", "enum": ["top", "middle", "bottom"], "default": "bottom"},
                "words_per_caption": {"type": "integer", "minimum": 1, "maximum": 12, "default": 4}
            }, "additionalProperties": false},
            "transition": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["crossfade", "cut"], "default": "crossfade"},
                "duration_s": {"type": "number", "minimum": 0.04, "maximum": 2, "default": 0.3}
            }, "additionalProperties": false},
            "voice": {"type": "object", "properties": {
                "engine": {"type": "string", "enum": ["espeak-ng"], "default": "espeak-ng"},
                "language": {"type": "string", "pattern": "^[a-z]{2,3}(-[a-z0-9]{2,8})*$", "default": "en"},
                "voice": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9_+-]{1,40}$"},
                "rate": {"type": "integer", "minimum": 80, "maximum": 450, "default": 165}
            }, "additionalProperties": false},
            "encoding": {"type": "object", "properties": {
                "preset": {"type": "string", "enum": ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"],
                           "default": "veryfast"},
                "crf": {"type": "integer", "minimum": 0, "maximum": 51, "default": 21},
                "video_kbps": {"type": "integer", "minimum": 100, "maximum": 100000}
            }, "additionalProperties": false},
            "skip_bad_scenes": {"type": "boolean", "default": false,
                                "description": "Leave out a scene whose media cannot be read, with a warning, rather than fail."}
        },
        "required": ["scenes"],
        "additionalProperties": false
    })
}

/// Rules the schema cannot say, each naming its field.
pub fn check(params: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let Some(scenes) = params["scenes"].as_array() else {
        return errors;
    };
    for (index, scene) in scenes.iter().enumerate() {
        let field = |name: &str| format!("params.scenes.{index}.{name}");
        if scene.get("image").is_some() && scene.get("video").is_some() {
            errors.push(FieldError::new(
                field("video"),
                "give an image or a video, not both",
            ));
        }
        let durations = ["duration_s", "duration", "durationSeconds"]
            .iter()
            .filter(|name| scene.get(**name).is_some())
            .count();
        if durations > 1 {
            errors.push(FieldError::new(
                field("duration_s"),
                "give the duration once (duration_s, duration or durationSeconds)",
            ));
        }
        if scene.get("word_timings").is_some() && scene.get("wordTimings").is_some() {
            errors.push(FieldError::new(
                field("word_timings"),
                "give word_timings or wordTimings, not both",
            ));
        }
        let timings = scene
            .get("word_timings")
            .or_else(|| scene.get("wordTimings"));
        for (word, timing) in timings
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let (start, end) = (timing["start"].as_f64(), timing["end"].as_f64());
            if let (Some(start), Some(end)) = (start, end) {
                if end < start {
                    errors.push(FieldError::new(
                        format!("{}.{word}.end", field("word_timings")),
                        "a word ends before it starts",
                    ));
                }
            }
        }
    }
    errors
}

/// The upload ids the spec names, each with where it is.
pub fn uploads_in(params: &Value) -> Vec<UploadRef> {
    let mut found = Vec::new();
    let mut take = |pointer: String, value: &Value| {
        if let Some(id) = value.as_str() {
            found.push(UploadRef {
                pointer,
                upload_id: id.to_owned(),
            });
        }
    };
    for (index, scene) in params["scenes"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        for field in ["image", "video", "audio"] {
            take(format!("/scenes/{index}/{field}"), &scene[field]);
        }
    }
    take("/music".to_owned(), &params["music"]);
    found
}

/// What kind of media an upload named at `pointer` must be.
pub fn kind_at(pointer: &str) -> MediaKind {
    if pointer.ends_with("/image") {
        MediaKind::Image
    } else if pointer.ends_with("/video") {
        MediaKind::Video
    } else {
        MediaKind::Audio
    }
}
