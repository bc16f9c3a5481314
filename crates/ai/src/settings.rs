//! What the operator configures for the AI provider.

use std::fmt;
use std::time::Duration;

/// Where the provider is and which of its models does each task.
#[derive(Clone)]
pub struct AiSettings {
    /// The API's base, up to and including its version: `https://api.openai.com/v1`,
    /// `http://localhost:11434/v1` (Ollama).
    pub base_url: String,
    /// Sent as `Authorization: Bearer …`; none for a local server that needs none.
    pub api_key: Option<String>,
    /// Writes scripts (chat completions in JSON mode).
    pub chat_model: String,
    /// Draws pictures (`/images/generations`).
    pub image_model: String,
    /// Speaks narration (`/audio/speech`); none: narration is spoken by espeak-ng.
    pub speech_model: Option<String>,
    /// How long one request may take.
    pub timeout: Duration,
}

/// The key is never printed.
impl fmt::Debug for AiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AiSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<hidden>"))
            .field("chat_model", &self.chat_model)
            .field("image_model", &self.image_model)
            .field("speech_model", &self.speech_model)
            .field("timeout", &self.timeout)
            .finish()
    }
}
