//! What one job may make a worker hold, whatever the client asked for or the
//! file's header claims: checked at submission where the probe allows, and
//! again when the job runs.

use std::path::Path;

use kinoflow_media::Probe;

/// Bounds on the videos the pipelines accept and the work they may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoLimits {
    /// The most pixels one picture may have (width × height): a decoded frame
    /// is held in memory whole.
    pub max_pixels: u64,
    /// The most frames one `frames` job may extract.
    pub max_frames: u64,
}

/// 8192 × 8192: 8K video and then some.
pub const DEFAULT_MAX_PIXELS: u64 = 8192 * 8192;
/// Hours of video at one frame a second.
pub const DEFAULT_MAX_FRAMES: u64 = 100_000;

impl Default for VideoLimits {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            max_frames: DEFAULT_MAX_FRAMES,
        }
    }
}

impl VideoLimits {
    /// Probes `input`: ffprobe must find a video stream in it, and its
    /// picture must be no larger than allowed. The error is for the user.
    pub async fn probe(&self, input: &Path) -> Result<Probe, String> {
        let probe = kinoflow_media::probe(input)
            .await
            .map_err(|e| e.to_string())?;
        let pixels = u64::from(probe.width) * u64::from(probe.height);
        if pixels > self.max_pixels {
            return Err(format!(
                "the video is {}×{} ({pixels} pixels); this server takes at most {} pixels a frame",
                probe.width, probe.height, self.max_pixels
            ));
        }
        Ok(probe)
    }
}
