//! kinoflow's media layer: ffmpeg and ffprobe run as child processes, never
//! linked in. A child is killed when its owner drops it, so a cancelled job
//! leaves none behind, and its complaints become errors a user can read.

mod command;
mod encode;
mod error;
mod extract;
mod frames;
mod images;
mod inspect;
mod packets;
mod probe;
mod process;
mod tools;

pub use command::{integrated_loudness, run_ffmpeg};
pub use encode::FrameEncoder;
pub use error::MediaError;
pub use extract::{
    extract_images, hwaccel_works, ExtractRun, ExtractedImage, ImageOptions, ImageStream,
};
pub use frames::{output_size, FrameReader, FrameReaderOptions, RgbFrame};
pub use images::ImageFormat;
pub use inspect::{inspect, MediaInfo, MediaKind};
pub use packets::{frame_times, FrameTime};
pub use probe::{probe, AudioStream, Probe};
pub use process::STALL_TIMEOUT;
pub use tools::check_installed;
