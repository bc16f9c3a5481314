//! kinoflow's analysis pipelines. [`all`] registers every pipeline this build has.

mod probe;
mod sleep;

use kinoflow_engine::PipelineRegistry;

pub use probe::ProbePipeline;
pub use sleep::SleepPipeline;

/// Every pipeline kinoflow ships.
pub fn all() -> PipelineRegistry {
    let mut registry = PipelineRegistry::new();
    registry.register(ProbePipeline);
    registry.register(SleepPipeline);
    registry
}
