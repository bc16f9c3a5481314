//! kinoflow's analysis pipelines. [`all`] registers every pipeline this build has.

mod biomech;
mod frames;
mod probe;
mod sleep;

use std::path::{Path, PathBuf};

use kinoflow_engine::PipelineRegistry;

pub use biomech::BiomechPipeline;
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

/// What the pipelines need from the operator's settings.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// An ffmpeg `-hwaccel` method to try before software decoding.
    pub hwaccel: Option<String>,
    /// Where the ONNX models are.
    pub models_dir: PathBuf,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            hwaccel: None,
            models_dir: bundled_models_dir(),
        }
    }
}

/// The `models/` folder of the source tree this binary was built from: a
/// clone works without configuration; an installed binary is told where the
/// models are with `KINOFLOW_MODELS_DIR`.
pub fn bundled_models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

/// Every pipeline kinoflow ships.
pub fn all(options: PipelineOptions) -> PipelineRegistry {
    let mut registry = PipelineRegistry::new();
    registry.register(BiomechPipeline {
        models_dir: options.models_dir,
    });
    registry.register(FramesPipeline {
        hwaccel: options.hwaccel,
    });
    registry.register(ProbePipeline);
    registry.register(SleepPipeline);
    registry
}
