//! `noop`: does nothing and stores nothing. For tests and benchmarks of the
//! engine itself: what a job costs when its work costs nothing.

use async_trait::async_trait;
use kinoflow_engine::{InputKind, JobContext, Pipeline, PipelineError, RunSummary};
use serde_json::{json, Value};

/// Succeeds at once, with no artifact.
pub struct NoopPipeline;

#[async_trait]
impl Pipeline for NoopPipeline {
    fn name(&self) -> &'static str {
        "noop"
    }

    fn description(&self) -> &'static str {
        "Does nothing and stores nothing; for tests and benchmarks of the engine."
    }

    fn input(&self) -> InputKind {
        InputKind::None
    }

    fn uses_scratch(&self) -> bool {
        false
    }

    fn params_schema(&self) -> Value {
        json!({"type": "object", "additionalProperties": false})
    }

    async fn run(&self, _ctx: JobContext) -> Result<RunSummary, PipelineError> {
        Ok(RunSummary::default())
    }
}
