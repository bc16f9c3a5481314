//! `probe`: what ffprobe says about the input video, as `probe.json`.

use async_trait::async_trait;
use kinoflow_engine::{InputFile, InputKind, JobContext, Pipeline, PipelineError, RunSummary};
use serde_json::{json, Value};

use crate::VideoLimits;

/// Reads the input's container, streams, size, rate and rotation.
pub struct ProbePipeline {
    pub limits: VideoLimits,
}

#[async_trait]
impl Pipeline for ProbePipeline {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn description(&self) -> &'static str {
        "Reads a video's metadata (container, codecs, size, frame rate, duration, rotation, audio) into probe.json."
    }

    fn input(&self) -> InputKind {
        InputKind::Video
    }

    fn params_schema(&self) -> Value {
        json!({"type": "object", "properties": {}, "additionalProperties": false})
    }

    async fn check_input(&self, input: &InputFile, _params: &Value) -> Result<(), String> {
        self.limits.probe_input(input).await.map(drop)
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        ctx.progress.report(0.0, "probing");
        let probe = kinoflow_media::probe(ctx.input()?).await?;
        let body = serde_json::to_vec_pretty(&probe)
            .map_err(|e| PipelineError::permanent(e.to_string()))?;
        ctx.artifacts.put_bytes("probe.json", &body).await?;
        ctx.progress.report(1.0, "done");
        Ok(RunSummary {
            warnings: probe
                .warnings
                .iter()
                .map(|w| format!("ffprobe: {w}"))
                .collect(),
        })
    }
}
