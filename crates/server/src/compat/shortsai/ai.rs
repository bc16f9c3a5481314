//! `POST /api/ai/generate`: what ShortsAI asked its AI for, answered by
//! the operator's OpenAI-compatible provider — a script, a music prompt, a
//! character's description, a headshot. A caller may bring their own key
//! (`apiKeys.openai`), used for that request only and never logged or
//! kept. Without a provider the answer is 503 naming the setting; a
//! provider's failure is 502 (its answer unusable, its key or quota
//! refused) or 503 (busy, after retries), never the original's bare 500.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kinoflow_ai::{
    write_script, ImageModel, OpenAiCompatible, ProviderError, ScriptRequest, TextModel,
};
use kinoflow_engine::NewUpload;
use serde_json::{json, Value};

use super::assets::upload_url;
use super::body::Fields;
use super::error::{json_body, Caller, ShortsError};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

const ACTIONS: [&str; 4] = [
    "generate_script",
    "generate_music_prompt",
    "analyze_character",
    "optimize_image",
];
/// The video's length when the request does not say: the original's.
const DEFAULT_DURATION: (f64, f64) = (65.0, 90.0);
/// The largest picture a caller may send to be described.
const MOST_IMAGE_BYTES: usize = 10 << 20;

/// One AI action.
#[utoipa::path(post, path = "/api/ai/generate", tag = "shortsai", operation_id = "shortsai_ai_generate", security(("bearer" = [])),
    request_body = Value,
    responses((status = 200, description = "`{\"result\": …}`"),
              (status = 400, description = "`{\"error\": \"Validation Error\", \"details\": …}`"),
              (status = 502, description = "The provider's answer or refusal"),
              (status = 503, description = "No provider configured, or it is busy")))]
pub async fn generate(
    State(state): State<AppState>,
    Caller(user): Caller,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let body = json_body(&body)?;
    let fields = Fields::of(&body)?;
    let action = fields
        .one_of("action", &ACTIONS)?
        .ok_or_else(|| ShortsError::invalid("action", "Required"))?;
    let params = fields
        .value("params")
        .filter(|p| p.is_object())
        .ok_or_else(|| ShortsError::invalid("params", "Expected object"))?;
    let provider = provider(&state, fields.value("apiKeys"))?;
    let params = Fields::of(params)?;
    let result = match action.as_str() {
        "generate_script" => json!(script(&provider, &params).await?),
        "generate_music_prompt" => json!(music_prompt(&provider, &params).await?),
        "analyze_character" => json!(describe_face(&provider, &params).await?),
        _ => json!(headshot(&state, &user, &provider, &params).await?),
    };
    Ok(Json(json!({ "result": result })))
}

/// `POST /api/ai/generate-script`, the Studio's own route: the script
/// itself, not wrapped in `result`.
#[utoipa::path(post, path = "/api/ai/generate-script", tag = "shortsai", operation_id = "shortsai_ai_generate_script", security(("bearer" = [])),
    request_body = Value,
    responses((status = 200, description = "`{videoTitle, videoDescription, scenes}`")))]
pub async fn generate_script(
    State(state): State<AppState>,
    Caller(_caller): Caller,
    body: Bytes,
) -> Result<Json<Value>, ShortsError> {
    let body = json_body(&body)?;
    let fields = Fields::of(&body)?;
    let provider = provider(&state, fields.value("apiKeys"))?;
    Ok(Json(json!(script(&provider, &fields).await?)))
}

/// The operator's provider, with the caller's own key when given.
fn provider(state: &AppState, keys: Option<&Value>) -> Result<OpenAiCompatible, ShortsError> {
    let settings = state.ai.as_ref().ok_or_else(|| {
        ShortsError::said(
            StatusCode::SERVICE_UNAVAILABLE,
            "no AI provider is configured: set KINOFLOW_AI_BASE_URL (and KINOFLOW_AI_API_KEY)",
        )
    })?;
    let own_key = keys
        .and_then(|keys| keys["openai"].as_str())
        .filter(|key| !key.trim().is_empty())
        .map(|key| key.trim().to_owned());
    let provider = OpenAiCompatible::new(settings.clone()).map_err(refused)?;
    Ok(provider.with_key(own_key))
}

/// A provider's failure, said to the caller.
fn refused(error: ProviderError) -> ShortsError {
    let status = match error {
        ProviderError::NotConfigured(_) | ProviderError::Unavailable(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::BAD_GATEWAY,
    };
    ShortsError::said(status, error.to_string())
}

async fn script(
    provider: &OpenAiCompatible,
    params: &Fields<'_>,
) -> Result<kinoflow_ai::Script, ShortsError> {
    let config = params.value("durationConfig");
    let number = |name: &str| {
        config
            .and_then(|c| c[name].as_f64())
            .filter(|n| n.is_finite())
    };
    let (min_s, max_s) = (
        number("min").unwrap_or(DEFAULT_DURATION.0),
        number("max").unwrap_or(DEFAULT_DURATION.1),
    );
    if !(1.0..=3600.0).contains(&min_s) || !(min_s..=3600.0).contains(&max_s) {
        return Err(ShortsError::invalid(
            "durationConfig",
            "min and max must be seconds, 1 to 3600, min ≤ max",
        ));
    }
    let target_scenes = number("targetScenes")
        .filter(|n| (1.0..=50.0).contains(n))
        .map(|n| n as u32);
    let request = ScriptRequest {
        topic: params.required_text("topic")?,
        style: params.text("style")?.unwrap_or_default(),
        language: params.text("language")?.unwrap_or_else(|| "en".to_owned()),
        min_s,
        max_s,
        target_scenes,
    };
    write_script(provider, &request).await.map_err(refused)
}

async fn music_prompt(
    provider: &OpenAiCompatible,
    params: &Fields<'_>,
) -> Result<String, ShortsError> {
    let user = format!(
        "Topic: {}\nStyle: {}",
        params.required_text("topic")?,
        params.text("style")?.unwrap_or_default()
    );
    let system = "You write prompts for a music model: the background music of a short video. \
                  Answer with one JSON object {\"prompt\": string}: instrumental, mood, tempo, \
                  instruments, in under 200 characters.";
    let answer = provider.json(system, &user).await.map_err(refused)?;
    text_in(&answer, "prompt")
}

/// A face's description, comma-separated, from a picture (a data URI).
async fn describe_face(
    provider: &OpenAiCompatible,
    params: &Fields<'_>,
) -> Result<String, ShortsError> {
    let image = data_uri(params)?;
    let system = "You describe faces for an image model, to draw the same person again. Answer \
                  with one JSON object {\"description\": string}: a comma-separated list of the \
                  face's features (age, hair, eyes, skin, build, distinctive marks).";
    let answer = provider
        .json_about_image(system, "Describe this person's face.", &image)
        .await
        .map_err(refused)?;
    text_in(&answer, "description")
}

/// A clean headshot of the person in a picture, kept as an upload of the
/// caller's; its URL (the original's answer was a URL too).
async fn headshot(
    state: &AppState,
    user: &AuthUser,
    provider: &OpenAiCompatible,
    params: &Fields<'_>,
) -> Result<String, ShortsError> {
    let face = describe_face(provider, params).await?;
    let prompt =
        format!("A studio headshot portrait on a neutral background of a person with: {face}");
    let picture = provider
        .picture(&prompt, 1024, 1024)
        .await
        .map_err(refused)?;
    let name = kinoflow_pipelines::artifacts::picture::named_for(&picture).ok_or_else(|| {
        refused(ProviderError::BadAnswer(
            "the picture is not a PNG, JPEG or WebP".to_owned(),
        ))
    })?;
    let new = NewUpload {
        owner_id: user.id.clone(),
        filename: format!("headshot-{name}"),
        content_type: mime_guess::from_path(name)
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    };
    let upload = state
        .engine
        .put_upload(new, &mut picture.as_slice(), None)
        .await
        .map_err(ApiError::internal)?;
    Ok(upload_url(state, &upload.id))
}

/// The picture of `params.base64Image`: a data URI (a bare base64 string
/// is taken as a PNG's).
fn data_uri(params: &Fields<'_>) -> Result<String, ShortsError> {
    let image = params.required_text("base64Image")?;
    if image.len() > MOST_IMAGE_BYTES * 4 / 3 + 100 {
        return Err(ShortsError::invalid(
            "base64Image",
            "The picture is larger than 10 MiB",
        ));
    }
    Ok(if image.starts_with("data:image/") {
        image
    } else {
        format!("data:image/png;base64,{image}")
    })
}

fn text_in(answer: &Value, name: &str) -> Result<String, ShortsError> {
    answer[name]
        .as_str()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            refused(ProviderError::BadAnswer(format!(
                "the model's answer has no {name:?}"
            )))
        })
}
