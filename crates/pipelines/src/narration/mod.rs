//! `narration`: text spoken into a WAV file, with when each word is said,
//! by espeak-ng offline or by the operator's speech model (an
//! OpenAI-compatible provider, which says no word times).

pub mod artifacts;

use async_trait::async_trait;
use kinoflow_ai::{AiSettings, SpeechModel};
use kinoflow_engine::{InputKind, JobContext, Pipeline, PipelineError, RunSummary};
use kinoflow_media::inspect;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::failure::permanent;
use crate::picture::{failure, provider};
use crate::voice::{self, VoiceSettings, WordTiming};

/// Speaks narration.
pub struct NarrationPipeline {
    pub ai: Option<AiSettings>,
}

#[derive(Deserialize)]
struct NarrationParams {
    text: String,
    #[serde(default = "default_engine")]
    engine: String,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default)]
    voice: Option<String>,
    #[serde(default = "default_rate")]
    rate: u32,
}

fn default_engine() -> String {
    "espeak-ng".to_owned()
}

fn default_language() -> String {
    "en".to_owned()
}

fn default_rate() -> u32 {
    165
}

/// The voice a provider speaks with when none is named.
const PROVIDER_VOICE: &str = "alloy";

#[async_trait]
impl Pipeline for NarrationPipeline {
    fn name(&self) -> &'static str {
        "narration"
    }

    fn description(&self) -> &'static str {
        "Speaks text into a WAV file with the time of each word: espeak-ng offline, or the operator's speech model."
    }

    fn input(&self) -> InputKind {
        InputKind::None
    }

    fn params_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": 5000,
                         "description": "What is said."},
                "engine": {"type": "string", "enum": ["espeak-ng", "provider"], "default": "espeak-ng",
                           "description": "espeak-ng (offline, with word times) or the configured speech model."},
                "language": {"type": "string", "minLength": 1, "maxLength": 20, "default": "en",
                             "description": "espeak-ng's language when no voice is named (en, pt-br, …)."},
                "voice": {"type": "string", "minLength": 1, "maxLength": 100,
                          "description": "A voice of the engine's."},
                "rate": {"type": "integer", "minimum": 80, "maximum": 450, "default": 165,
                         "description": "espeak-ng's words a minute."}
            },
            "required": ["text"],
            "additionalProperties": false
        })
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        let params: NarrationParams = ctx.params()?;
        let wav = ctx.scratch.join(artifacts::AUDIO);
        ctx.progress.report(0.1, "speaking");
        let words = match params.engine.as_str() {
            "provider" => {
                let provider = provider(self.ai.as_ref())?;
                let voice = params.voice.as_deref().unwrap_or(PROVIDER_VOICE);
                let audio = tokio::select! {
                    spoken = provider.speech(&params.text, voice) => spoken.map_err(failure)?,
                    _ = ctx.cancel.cancelled() => return Err(PipelineError::Cancelled),
                };
                tokio::fs::write(&wav, audio).await.map_err(permanent)?;
                Vec::new()
            }
            _ => speak_offline(&params, &wav).await?,
        };
        let duration_s = inspect(&wav)
            .await
            .map_err(|e| permanent(format!("the narration cannot be read: {e}")))?
            .duration_s
            .unwrap_or(0.0);
        ctx.artifacts.put_file(artifacts::AUDIO, &wav).await?;
        let timing = json!({"duration_s": duration_s, "words": words});
        ctx.artifacts
            .put_bytes(artifacts::TIMING, timing.to_string().as_bytes())
            .await?;
        Ok(RunSummary::default())
    }
}

/// Speaks with espeak-ng; when each word is said.
async fn speak_offline(
    params: &NarrationParams,
    wav: &std::path::Path,
) -> Result<Vec<WordTiming>, PipelineError> {
    let settings = VoiceSettings {
        engine: "espeak-ng".to_owned(),
        language: params.language.clone(),
        voice: params.voice.clone(),
        rate: params.rate,
    };
    let voice = voice::voice_for(&settings).map_err(permanent)?;
    voice::speak(voice, params.text.clone(), wav.to_owned())
        .await
        .map_err(permanent)
}
