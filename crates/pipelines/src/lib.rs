//! kinoflow's analysis pipelines. [`all`] registers every pipeline this build has.

mod frames;
mod probe;
mod sleep;

use kinoflow_engine::PipelineRegistry;

pub use frames::FramesPipeline;
pub use probe::ProbePipeline;
pub use sleep::SleepPipeline;

/// The submission check of every pipeline that takes a video: ffprobe must
/// find a video stream in it; the error is ffprobe's reason in words.
pub(crate) async fn check_video(input: &std::path::Path) -> Result<(), String> {
    kinoflow_media::probe(input)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Every pipeline kinoflow ships; `hwaccel` is the ffmpeg hardware decoder
/// to try first, if any.
pub fn all(hwaccel: Option<String>) -> PipelineRegistry {
    let mut registry = PipelineRegistry::new();
    registry.register(FramesPipeline { hwaccel });
    registry.register(ProbePipeline);
    registry.register(SleepPipeline);
    registry
}
