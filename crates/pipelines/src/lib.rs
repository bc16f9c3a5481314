//! kinoflow's analysis pipelines. [`all`] registers every pipeline this build has.

mod frames;
mod probe;
mod sleep;

use kinoflow_engine::PipelineRegistry;

pub use frames::FramesPipeline;
pub use probe::ProbePipeline;
pub use sleep::SleepPipeline;

/// Every pipeline kinoflow ships; `hwaccel` is the ffmpeg hardware decoder
/// to try first, if any.
pub fn all(hwaccel: Option<String>) -> PipelineRegistry {
    let mut registry = PipelineRegistry::new();
    registry.register(FramesPipeline { hwaccel });
    registry.register(ProbePipeline);
    registry.register(SleepPipeline);
    registry
}
