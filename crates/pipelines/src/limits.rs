//! What one job may make a worker hold, whatever the client asked for or the
//! file's header claims: checked at submission where the probe allows, and
//! again when the job runs.

use std::path::Path;

use kinoflow_engine::{InputFile, PipelineError};
use kinoflow_media::Probe;

/// What probing an upload at submission found, kept on the [`InputFile`] so
/// that every check on that upload shares one ffprobe run.
#[derive(Clone)]
struct Probed(Result<Probe, String>);

/// Bounds on the videos the pipelines accept and the work they may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoLimits {
    /// The most pixels one picture may have (width × height): a decoded frame
    /// is held in memory whole.
    pub max_pixels: u64,
    /// The most frames one `frames` job may extract.
    pub max_frames: u64,
}

impl VideoLimits {
    /// Probes `input`: ffprobe must find a video stream in it, and its
    /// picture must be no larger than allowed. The error's message is for
    /// the user; a probe that failed for reasons of its own (ffprobe killed
    /// or too slow) is worth a retry.
    pub async fn probe(&self, input: &Path) -> Result<Probe, PipelineError> {
        let probe = kinoflow_media::probe(input).await?;
        let pixels = u64::from(probe.width) * u64::from(probe.height);
        if pixels > self.max_pixels {
            return Err(PipelineError::permanent(format!(
                "the video is {}×{} ({pixels} pixels); this server takes at most {} pixels a frame",
                probe.width, probe.height, self.max_pixels
            )));
        }
        Ok(probe)
    }

    /// [`VideoLimits::probe`] for a submission check: the upload is probed
    /// once whichever checks ask.
    pub async fn probe_input(&self, input: &InputFile) -> Result<Probe, String> {
        let limits = *self;
        let Probed(probed) = input
            .fact(|path| {
                let path = path.to_owned();
                async move { Probed(limits.probe(&path).await.map_err(|e| e.to_string())) }
            })
            .await;
        probed
    }
}
