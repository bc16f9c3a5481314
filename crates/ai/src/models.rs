//! The tasks a provider does, one trait each.

use async_trait::async_trait;
use serde_json::Value;

use crate::error::ProviderError;

/// Answers a prompt with a JSON object.
#[async_trait]
pub trait TextModel: Send + Sync {
    /// The JSON object the model answers `user` with, told `system` first.
    async fn json(&self, system: &str, user: &str) -> Result<Value, ProviderError>;

    /// The JSON object the model answers with about a picture (a data URI).
    async fn json_about_image(
        &self,
        system: &str,
        user: &str,
        image_data_uri: &str,
    ) -> Result<Value, ProviderError>;
}

/// Draws a picture.
#[async_trait]
pub trait ImageModel: Send + Sync {
    /// The encoded picture (PNG, JPEG or WebP) for `prompt`, about
    /// `width`×`height` (a provider draws the nearest size it offers).
    async fn picture(
        &self,
        prompt: &str,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>, ProviderError>;
}

/// Speaks text.
#[async_trait]
pub trait SpeechModel: Send + Sync {
    /// `text` spoken by `voice`, as a WAV file.
    async fn speech(&self, text: &str, voice: &str) -> Result<Vec<u8>, ProviderError>;
}
