//! The names of the artifacts a `frames` job writes, for those who serve
//! them under names of their own.

/// Every extracted frame, in one ZIP.
pub const FRAMES_ZIP: &str = "frames.zip";
/// Each frame's number and time, and the settings that chose them.
pub const MANIFEST: &str = "manifest.json";
