//! ShortsAI's words: the statuses of projects and of their assets, and
//! the times and numbers as its clients read them.

use chrono::{DateTime, SecondsFormat};

/// A project's statuses (`ProjectStatus`).
pub const PROJECT_STATUSES: [&str; 5] = ["draft", "generating", "completed", "failed", "paused"];

/// The voices a project may name (`TTSProvider`); kinoflow speaks them all
/// with its own voice (espeak-ng, or the operator's speech model).
pub const TTS_PROVIDERS: [&str; 3] = ["gemini", "elevenlabs", "groq"];

/// An asset's statuses (`SceneStatus`; `loading` and `error` are the
/// original's too, set by its clients).
pub const ASSET_STATUSES: [&str; 8] = [
    "draft",
    "pending",
    "queued",
    "processing",
    "loading",
    "completed",
    "failed",
    "error",
];

pub const DRAFT: &str = "draft";
pub const PENDING: &str = "pending";
pub const QUEUED: &str = "queued";
pub const PROCESSING: &str = "processing";
pub const LOADING: &str = "loading";
pub const COMPLETED: &str = "completed";
pub const FAILED: &str = "failed";

pub const GENERATING: &str = "generating";
pub const PAUSED: &str = "paused";

/// A time as Prisma's JSON writes it: ISO 8601 in UTC with milliseconds.
pub fn iso_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A `Decimal(5,2)` as Prisma's JSON writes it: a string, without
/// trailing zeros.
pub fn decimal(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    format!("{rounded}")
}
