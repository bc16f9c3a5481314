//! The names of the artifacts a `render` job writes, for those who serve
//! them under names of their own.

/// The video: H.264 High, yuv420p, AAC 48 kHz, `+faststart`.
pub const VIDEO: &str = "render.mp4";
/// A frame of the first scene.
pub const THUMBNAIL: &str = "thumbnail.jpg";
/// Each scene's start and end, each caption's time and words.
pub const TIMELINE: &str = "timeline.json";
pub const CAPTIONS_SRT: &str = "captions.srt";
pub const CAPTIONS_VTT: &str = "captions.vtt";
/// The captions as burned in (libass).
pub const CAPTIONS_ASS: &str = "captions.ass";
