//! The OpenAI-compatible HTTP API: chat completions in JSON mode, image
//! generations answered as base64, speech. Timeouts, 429 rate limits and
//! 5xx answers are tried again with backoff; a refused key, a used-up
//! quota or a model's refusal are not.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::header::RETRY_AFTER;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::error::ProviderError;
use crate::models::{ImageModel, SpeechModel, TextModel};
use crate::settings::AiSettings;

/// How many times one request is sent at most.
const TRIES: u32 = 3;
/// The first wait before a request is sent again; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest a provider's `Retry-After` is waited for within one task.
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// A provider that speaks OpenAI's HTTP API.
#[derive(Clone)]
pub struct OpenAiCompatible {
    http: reqwest::Client,
    settings: AiSettings,
}

impl OpenAiCompatible {
    pub fn new(settings: AiSettings) -> Result<Self, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            // The provider is the one host it talks to: no redirect elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        Ok(Self { http, settings })
    }

    /// The same provider with the caller's own key instead of the operator's.
    pub fn with_key(&self, api_key: Option<String>) -> Self {
        let mut settings = self.settings.clone();
        if api_key.is_some() {
            settings.api_key = api_key;
        }
        Self {
            http: self.http.clone(),
            settings,
        }
    }

    pub fn settings(&self) -> &AiSettings {
        &self.settings
    }

    /// POSTs `body` to `path` of the API until it answers 2xx, a failure not
    /// worth retrying, or the tries are spent.
    async fn post(&self, path: &str, body: &Value) -> Result<Response, ProviderError> {
        let url = format!("{}/{path}", self.settings.base_url.trim_end_matches('/'));
        let mut wait = FIRST_BACKOFF;
        let mut tried = 0;
        loop {
            tried += 1;
            let failure = match self.send(&url, body).await {
                Ok(response) => return Ok(response),
                Err((failure, retry_after)) => {
                    if let Some(after) = retry_after {
                        wait = after.min(LONGEST_WAIT);
                    }
                    failure
                }
            };
            if !failure.is_retryable() || tried >= TRIES {
                return Err(failure);
            }
            tracing::debug!(path, tried, error = %failure, "AI provider request failed; trying again");
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }

    /// One request: the answer when 2xx, else the failure and how long the
    /// provider asked to wait.
    async fn send(
        &self,
        url: &str,
        body: &Value,
    ) -> Result<Response, (ProviderError, Option<Duration>)> {
        let mut request = self.http.post(url).json(body);
        if let Some(key) = &self.settings.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| (ProviderError::Unavailable(without_url(&e)), None))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(LONGEST_WAIT.as_secs_f64())));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Err((failure_of(status, &text), retry_after))
    }
}

/// A transport error's words without the URL (the base URL may carry a
/// key in its query for some gateways).
fn without_url(error: &reqwest::Error) -> String {
    let mut words = error.to_string();
    if let Some(url) = error.url() {
        words = words.replace(url.as_str(), "the provider");
    }
    words
}

/// What a non-2xx answer means, from its status and OpenAI's error body
/// `{"error": {"message", "type", "code"}}`.
fn failure_of(status: StatusCode, body: &str) -> ProviderError {
    let error: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = &error["error"];
    let message = error["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {status}"));
    let kind = [&error["code"], &error["type"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    match status.as_u16() {
        401 | 403 => ProviderError::KeyRefused(message),
        429 if kind.contains("insufficient_quota") => ProviderError::Quota(message),
        402 => ProviderError::Quota(message),
        _ if kind.contains("content_policy") || kind.contains("content_filter") => {
            ProviderError::Refusal(message)
        }
        408 | 409 | 429 => ProviderError::Unavailable(message),
        s if s >= 500 => ProviderError::Unavailable(message),
        _ => ProviderError::Rejected(message),
    }
}

/// The JSON object in a chat answer's text, which some models wrap in a
/// Markdown code fence.
fn json_in(text: &str) -> Result<Value, ProviderError> {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(trimmed);
    serde_json::from_str(inner.trim())
        .map_err(|e| ProviderError::BadAnswer(format!("the model did not answer with JSON: {e}")))
}

impl OpenAiCompatible {
    async fn chat(&self, messages: Value) -> Result<Value, ProviderError> {
        let body = json!({
            "model": self.settings.chat_model,
            "messages": messages,
            "response_format": {"type": "json_object"},
        });
        let answer: Value = self
            .post("chat/completions", &body)
            .await?
            .json()
            .await
            .map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        let choice = &answer["choices"][0];
        if let Some(refusal) = choice["message"]["refusal"].as_str() {
            return Err(ProviderError::Refusal(refusal.to_owned()));
        }
        if choice["finish_reason"] == "content_filter" {
            return Err(ProviderError::Refusal(
                "the answer was withheld by the provider's content filter".to_owned(),
            ));
        }
        let text = choice["message"]["content"].as_str().ok_or_else(|| {
            ProviderError::BadAnswer("the answer has no message content".to_owned())
        })?;
        json_in(text)
    }
}

#[async_trait]
impl TextModel for OpenAiCompatible {
    async fn json(&self, system: &str, user: &str) -> Result<Value, ProviderError> {
        self.chat(json!([
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]))
        .await
    }

    async fn json_about_image(
        &self,
        system: &str,
        user: &str,
        image_data_uri: &str,
    ) -> Result<Value, ProviderError> {
        self.chat(json!([
            {"role": "system", "content": system},
            {"role": "user", "content": [
                {"type": "text", "text": user},
                {"type": "image_url", "image_url": {"url": image_data_uri}},
            ]},
        ]))
        .await
    }
}

/// The size asked for: the provider's portrait, landscape or square size
/// nearest the frame's shape (the frame is filled by scaling anyway).
fn size_for(width: u32, height: u32) -> &'static str {
    if height > width {
        "1024x1792"
    } else if width > height {
        "1792x1024"
    } else {
        "1024x1024"
    }
}

#[async_trait]
impl ImageModel for OpenAiCompatible {
    async fn picture(
        &self,
        prompt: &str,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>, ProviderError> {
        let body = json!({
            "model": self.settings.image_model,
            "prompt": prompt,
            "n": 1,
            "size": size_for(width, height),
            // Never a URL: kinoflow fetches nothing from hosts it was not configured with.
            "response_format": "b64_json",
        });
        let answer: Value = self
            .post("images/generations", &body)
            .await?
            .json()
            .await
            .map_err(|e| ProviderError::BadAnswer(e.to_string()))?;
        let encoded = answer["data"][0]["b64_json"].as_str().ok_or_else(|| {
            ProviderError::BadAnswer("the answer has no data[0].b64_json".to_owned())
        })?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| ProviderError::BadAnswer(format!("b64_json is not base64: {e}")))
    }
}

#[async_trait]
impl SpeechModel for OpenAiCompatible {
    async fn speech(&self, text: &str, voice: &str) -> Result<Vec<u8>, ProviderError> {
        let model = self
            .settings
            .speech_model
            .as_ref()
            .ok_or(ProviderError::NotConfigured("KINOFLOW_AI_SPEECH_MODEL"))?;
        let body = json!({
            "model": model,
            "input": text,
            "voice": voice,
            "response_format": "wav",
        });
        let audio = self
            .post("audio/speech", &body)
            .await?
            .bytes()
            .await
            .map_err(|e| ProviderError::Unavailable(without_url(&e)))?;
        Ok(audio.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_what_to_do() {
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert!(matches!(
            failure_of(StatusCode::TOO_MANY_REQUESTS, quota),
            ProviderError::Quota(_)
        ));
        let limited = r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
        assert!(failure_of(StatusCode::TOO_MANY_REQUESTS, limited).is_retryable());
        assert!(failure_of(StatusCode::BAD_GATEWAY, "").is_retryable());
        assert!(matches!(
            failure_of(StatusCode::UNAUTHORIZED, "{}"),
            ProviderError::KeyRefused(_)
        ));
        let refusal = r#"{"error":{"message":"rejected","type":"invalid_request_error","code":"content_policy_violation"}}"#;
        assert!(matches!(
            failure_of(StatusCode::BAD_REQUEST, refusal),
            ProviderError::Refusal(_)
        ));
        assert!(matches!(
            failure_of(StatusCode::NOT_FOUND, "{}"),
            ProviderError::Rejected(_)
        ));
    }

    #[test]
    fn json_is_found_inside_a_code_fence() {
        assert_eq!(json_in("```json\n{\"a\": 1}\n```").unwrap()["a"], 1);
        assert_eq!(json_in(" {\"a\": 2} ").unwrap()["a"], 2);
        assert!(json_in("Sure! Here it is").is_err());
    }
}
