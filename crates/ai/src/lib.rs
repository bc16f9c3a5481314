//! The AI providers kinoflow asks for what it cannot make itself: a video
//! script as JSON, a picture from a prompt, speech from text. Each task is
//! a trait ([`TextModel`], [`ImageModel`], [`SpeechModel`]), so that a
//! provider is one implementation; [`OpenAiCompatible`] speaks the HTTP API
//! that OpenAI, Ollama, vLLM, LocalAI and most gateways speak.

mod error;
mod models;
mod openai;
mod script;
mod settings;

pub use error::ProviderError;
pub use models::{ImageModel, SpeechModel, TextModel};
pub use openai::OpenAiCompatible;
pub use script::{write_script, Script, ScriptRequest, ScriptScene};
pub use settings::AiSettings;
