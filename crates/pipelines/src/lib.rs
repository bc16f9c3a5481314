//! kinoflow's analysis pipelines. [`all`] registers every pipeline this build has.

mod biomech;
mod emotion;
mod failure;
mod font;
mod frames;
mod limits;
mod narration;
mod noop;
mod picture;
mod probe;
mod relevance;
mod render;
mod sleep;
mod video;
mod voice;

use std::path::{Path, PathBuf};

use kinoflow_ai::AiSettings;
use kinoflow_engine::PipelineRegistry;
use kinoflow_vision::Runtime;

pub use biomech::BiomechPipeline;
pub use emotion::EmotionPipeline;
pub use frames::FramesPipeline;
pub use limits::VideoLimits;
pub use narration::NarrationPipeline;
pub use noop::NoopPipeline;
pub use picture::PicturePipeline;
pub use probe::ProbePipeline;
pub use relevance::RelevancePipeline;
pub use render::RenderPipeline;
pub use sleep::SleepPipeline;

/// The names of the artifacts each pipeline writes.
pub mod artifacts {
    pub use crate::biomech::artifacts as biomech;
    pub use crate::emotion::artifacts as emotion;
    pub use crate::frames::artifacts as frames;
    pub use crate::narration::artifacts as narration;
    pub use crate::picture::artifacts as picture;
    pub use crate::relevance::artifacts as relevance;
    pub use crate::render::artifacts as render;
}

/// What the pipelines need from the operator's settings.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// An ffmpeg `-hwaccel` method to try before software decoding.
    pub hwaccel: Option<String>,
    /// Where the ONNX models are.
    pub models_dir: PathBuf,
    /// What runs them.
    pub inference: Runtime,
    /// How large a video and how much work one job may be.
    pub limits: VideoLimits,
    /// The AI provider that draws pictures and may speak narration; none:
    /// `picture` jobs fail saying so, narration is spoken by espeak-ng.
    pub ai: Option<AiSettings>,
    /// Offer `sleep`, which only waits, and `noop`: for tests and benchmarks.
    pub test_pipelines: bool,
}

/// The `models/` folder of the source tree this binary was built from: a
/// clone works without configuration; an installed binary is told where the
/// models are with `KINOFLOW_MODELS_DIR`.
pub fn bundled_models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

/// Every pipeline kinoflow ships (`sleep` and `noop` only when asked for).
pub fn all(options: PipelineOptions) -> PipelineRegistry {
    let mut registry = PipelineRegistry::new();
    registry.register(BiomechPipeline {
        models_dir: options.models_dir.clone(),
        inference: options.inference.clone(),
        limits: options.limits,
    });
    registry.register(EmotionPipeline {
        models_dir: options.models_dir,
        inference: options.inference,
        limits: options.limits,
    });
    registry.register(FramesPipeline {
        hwaccel: options.hwaccel,
        limits: options.limits,
    });
    registry.register(NarrationPipeline {
        ai: options.ai.clone(),
    });
    registry.register(PicturePipeline { ai: options.ai });
    registry.register(ProbePipeline {
        limits: options.limits,
    });
    registry.register(RelevancePipeline);
    registry.register(RenderPipeline);
    if options.test_pipelines {
        registry.register(SleepPipeline);
        registry.register(NoopPipeline);
    }
    registry
}
