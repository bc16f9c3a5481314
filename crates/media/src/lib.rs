//! kinoflow's media layer: ffmpeg and ffprobe run as child processes, never
//! linked in. A child is killed when its owner drops it, so a cancelled job
//! leaves none behind.

mod probe;

pub use probe::{probe, AudioStream, MediaError, Probe};
