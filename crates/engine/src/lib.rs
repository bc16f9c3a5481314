//! kinoflow's job engine: the [`Pipeline`] trait, submission with parameter
//! validation, and the workers that claim jobs under a lease, heartbeat,
//! retry with backoff, honour cancellation and give jobs back on shutdown.
//! Everything durable goes through the store; nothing lives only in memory.

mod artifacts;
mod backoff;
mod config;
mod engine;
mod group_commit;
mod input_file;
mod metrics;
mod params;
mod pipeline;
mod progress;
mod records;
mod references;
mod registry;
mod stop;
mod sweeper;
mod uploads;
mod worker;

pub use artifacts::{validate_artifact_name, ArtifactSink};
pub use config::EngineConfig;
pub use engine::{Engine, Submission, SubmitError};
pub use input_file::InputFile;
pub use metrics::EngineMetrics;
pub use params::FieldError;
pub use pipeline::{InputKind, JobContext, Pipeline, PipelineError, RunSummary, UploadRef};
pub use progress::ProgressReporter;
pub use records::Readiness;
pub use registry::PipelineRegistry;
pub use sweeper::{Sweeper, SweeperConfig};
pub use uploads::{
    presigned_prefix, Announced, Announcement, DeclaredSize, NewUpload, PartPlan, PresignedError,
    UploadError, MAX_PARTS, MIN_PART_SIZE,
};
pub use worker::{WorkerPool, WorkerPoolHandle, ANNOUNCEMENT_TIMEOUT, ANNOUNCE_INTERVAL};

pub use kinoflow_blobs as blobs;
pub use kinoflow_store as store;
