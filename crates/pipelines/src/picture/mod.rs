//! `picture`: a picture drawn from a prompt by the operator's image model
//! (an OpenAI-compatible provider), for a scene of a short. The provider
//! is asked to answer with the picture itself, never a link to fetch.

pub mod artifacts;

use async_trait::async_trait;
use kinoflow_ai::{AiSettings, ImageModel, OpenAiCompatible, ProviderError};
use kinoflow_engine::{InputKind, JobContext, Pipeline, PipelineError, RunSummary};
use serde::Deserialize;
use serde_json::{json, Value};

/// Draws a picture with the configured provider; without one, every job
/// fails saying which setting is missing.
pub struct PicturePipeline {
    pub ai: Option<AiSettings>,
}

#[derive(Deserialize)]
struct PictureParams {
    prompt: String,
    #[serde(default = "default_width")]
    width: u32,
    #[serde(default = "default_height")]
    height: u32,
}

fn default_width() -> u32 {
    1080
}

fn default_height() -> u32 {
    1920
}

#[async_trait]
impl Pipeline for PicturePipeline {
    fn name(&self) -> &'static str {
        "picture"
    }

    fn description(&self) -> &'static str {
        "Draws a picture from a prompt with the operator's image model (an OpenAI-compatible provider)."
    }

    fn input(&self) -> InputKind {
        InputKind::None
    }

    fn params_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "minLength": 1, "maxLength": 4000,
                           "description": "What the picture shows."},
                "width": {"type": "integer", "minimum": 16, "maximum": 4096, "default": 1080,
                          "description": "The frame it is for, in pixels; the provider draws its nearest shape."},
                "height": {"type": "integer", "minimum": 16, "maximum": 4096, "default": 1920,
                           "description": "The frame it is for, in pixels."}
            },
            "required": ["prompt"],
            "additionalProperties": false
        })
    }

    fn uses_scratch(&self) -> bool {
        false
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        let params: PictureParams = ctx.params()?;
        let provider = provider(self.ai.as_ref())?;
        ctx.progress.report(0.1, "drawing");
        let bytes = tokio::select! {
            drawn = provider.picture(&params.prompt, params.width, params.height) => drawn.map_err(failure)?,
            _ = ctx.cancel.cancelled() => return Err(PipelineError::Cancelled),
        };
        let name = artifacts::named_for(&bytes).ok_or_else(|| {
            PipelineError::permanent(
                "the image model answered with something that is not a PNG, JPEG or WebP picture",
            )
        })?;
        ctx.artifacts.put_bytes(name, &bytes).await?;
        Ok(RunSummary::default())
    }
}

/// The provider the operator configured; a permanent failure without one.
pub(crate) fn provider(ai: Option<&AiSettings>) -> Result<OpenAiCompatible, PipelineError> {
    let settings =
        ai.ok_or_else(|| failure(ProviderError::NotConfigured("KINOFLOW_AI_BASE_URL")))?;
    OpenAiCompatible::new(settings.clone()).map_err(failure)
}

/// A provider's failure as the engine's: tried again later when the
/// provider was busy, else said to the user at once.
pub(crate) fn failure(error: ProviderError) -> PipelineError {
    if error.is_retryable() {
        PipelineError::transient(error.to_string())
    } else {
        PipelineError::permanent(error.to_string())
    }
}
