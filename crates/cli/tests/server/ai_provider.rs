//! A small OpenAI-compatible API on loopback for the tests (a paid API
//! cannot run here): it checks the requests kinoflow sends as the real API
//! would (the key, the model, JSON mode, base64 pictures) and answers like
//! it, errors included. A prompt can ask for an error: `REFUSE` (a content
//! policy refusal), `QUOTA` (the quota used up), `FLAKY` (503 on the first
//! call), `SLOW` (two seconds' wait). Every request is recorded, on any
//! path, so a test can show that kinoflow fetched nothing it should not.

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

/// The operator's key the tests configure.
pub const KEY: &str = "sk-test-operator";
/// A key a user brings.
pub const USERS_KEY: &str = "sk-test-users-own";

/// A request the provider got.
#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    pub key: Option<String>,
    pub body: Value,
}

#[derive(Clone)]
pub struct Provider {
    requests: Arc<Mutex<Vec<Request>>>,
    /// Its base URL, up to `/v1`.
    pub base: String,
}

impl Provider {
    pub async fn start() -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provider = Provider {
            requests: Arc::default(),
            base: format!("http://{}/v1", listener.local_addr().unwrap()),
        };
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/images/generations", post(images))
            .fallback(unknown)
            .with_state(provider.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        provider
    }

    pub fn requests(&self, path: &str) -> Vec<Request> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    pub fn all_requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    fn record(&self, path: &str, headers: &HeaderMap, body: &[u8]) -> Request {
        let key = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let request = Request {
            path: path.to_owned(),
            key,
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        };
        self.requests.lock().unwrap().push(request.clone());
        request
    }

    /// How many requests named `marker` in their prompt before this one.
    fn seen(&self, marker: &str) -> usize {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .filter(|r| r.body.to_string().contains(marker))
            .count()
    }
}

/// OpenAI's error body.
fn error(status: StatusCode, message: &str, kind: &str, code: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, Json(body)).into_response()
}

/// The refusal of a request without a key the provider knows.
fn refused_key(request: &Request) -> Option<Response> {
    match request.key.as_deref() {
        Some(KEY | USERS_KEY) => None,
        _ => Some(error(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided",
            "invalid_request_error",
            "invalid_api_key",
        )),
    }
}

/// The error a prompt asks for, if any.
async fn asked_error(provider: &Provider, prompt: &str) -> Option<Response> {
    if prompt.contains("SLOW") {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    if prompt.contains("REFUSE") {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "Your request was rejected as a result of our safety system.",
            "invalid_request_error",
            "content_policy_violation",
        ));
    }
    if prompt.contains("QUOTA") {
        return Some(error(
            StatusCode::TOO_MANY_REQUESTS,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ));
    }
    if prompt.contains("FLAKY") && provider.seen("FLAKY") == 1 {
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is overloaded",
            "server_error",
            "server_error",
        ));
    }
    None
}

async fn chat(State(provider): State<Provider>, headers: HeaderMap, body: Bytes) -> Response {
    let request = provider.record("/v1/chat/completions", &headers, &body);
    if let Some(refused) = refused_key(&request) {
        return refused;
    }
    let body = &request.body;
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let valid = body["model"].is_string()
        && body["response_format"]["type"] == "json_object"
        && messages.first().is_some_and(|m| m["role"] == "system")
        && messages.last().is_some_and(|m| m["role"] == "user");
    if !valid {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid chat request",
            "invalid_request_error",
            "invalid_request",
        );
    }
    let prompt = body.to_string();
    if let Some(refused) = asked_error(&provider, &prompt).await {
        return refused;
    }
    let answer = if prompt.contains("music model") {
        json!({"prompt": "calm lo-fi piano, slow tempo"})
    } else if prompt.contains("describe faces") {
        json!({"description": "adult, short dark hair, brown eyes, round glasses"})
    } else {
        script_answer(&prompt)
    };
    // As some models do: the JSON inside a Markdown fence.
    let content = format!("```json\n{answer}\n```");
    Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": null}}],
    }))
    .into_response()
}

/// A two-scene script, its second scene in other words than asked (as
/// models answer): snake_case keys, numbers as strings.
fn script_answer(prompt: &str) -> Value {
    let visual = if prompt.contains("REFUSE-PICTURE") {
        "REFUSE a forbidden picture"
    } else {
        "a beehive at dawn, golden light"
    };
    json!({
        "videoTitle": "Bees at work",
        "videoDescription": "How a hive wakes up.",
        "scenes": [
            {"sceneNumber": 1, "visualDescription": visual,
             "narration": "Every morning the hive wakes up.", "durationSeconds": 3},
            {"scene_number": "2", "visual_description": "a bee on a sunflower, close up",
             "narration": "Thousands of bees fly out to find flowers.", "duration_seconds": "4"},
        ],
    })
}

async fn images(State(provider): State<Provider>, headers: HeaderMap, body: Bytes) -> Response {
    let request = provider.record("/v1/images/generations", &headers, &body);
    if let Some(refused) = refused_key(&request) {
        return refused;
    }
    let body = &request.body;
    let prompt = body["prompt"].as_str().unwrap_or_default().to_owned();
    let valid = body["model"].is_string()
        && !prompt.is_empty()
        && body["response_format"] == "b64_json"
        && body["size"].as_str().is_some_and(|s| s.contains('x'));
    if !valid {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid image request",
            "invalid_request_error",
            "invalid_request",
        );
    }
    if let Some(refused) = asked_error(&provider, &prompt).await {
        return refused;
    }
    let png = STANDARD.encode(picture(&prompt));
    Json(json!({"created": 0, "data": [{"b64_json": png, "revised_prompt": prompt}]}))
        .into_response()
}

/// A PNG of one colour that depends on the prompt.
pub fn picture(prompt: &str) -> Vec<u8> {
    let sum: u32 = prompt.bytes().map(u32::from).sum();
    let colour = [
        (sum % 200 + 40) as u8,
        (sum / 7 % 200 + 40) as u8,
        (sum / 13 % 200 + 40) as u8,
    ];
    let image = image::RgbImage::from_pixel(270, 480, image::Rgb(colour));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

async fn unknown(
    State(provider): State<Provider>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    provider.record(uri.path(), &headers, &body);
    error(
        StatusCode::NOT_FOUND,
        "Unknown request URL",
        "invalid_request_error",
        "unknown_url",
    )
}
