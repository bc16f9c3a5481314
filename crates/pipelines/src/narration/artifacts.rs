//! The names of what a `narration` job writes.

/// The speech, WAV.
pub const AUDIO: &str = "narration.wav";
/// `{"duration_s", "words": [{"word", "start", "end"}]}`, seconds.
pub const TIMING: &str = "narration.json";
