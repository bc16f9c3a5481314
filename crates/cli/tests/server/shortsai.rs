//! ShortsAI's API, as its clients call it, against a real kinoflow node and
//! a loopback OpenAI-compatible provider: a short from a topic to an MP4,
//! the workflow's commands, the lock, the worker webhook, the asset proxy,
//! and what another user, a bad body or a missing provider get.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::ai_provider::{Provider, KEY, USERS_KEY};
use crate::harness::{eventually, expect, Client, Server};

const WORKER_SECRET: &str = "render-worker-secret";
/// Long enough for a few espeak narrations, pictures and a render on a
/// slow machine.
const GENERATION: Duration = Duration::from_secs(180);

/// A node with the test provider and a worker secret, and its provider.
async fn node(root: &std::path::Path) -> (Server, Provider) {
    let provider = Provider::start().await;
    let server = Server::in_process(
        root,
        &[
            "--ai-base-url",
            &provider.base,
            "--ai-api-key",
            KEY,
            "--worker-secret",
            WORKER_SECRET,
        ],
    );
    (server, provider)
}

async fn new_project(client: &Client, topic: &str) -> String {
    let project = expect(
        client
            .post_json(
                "/api/projects",
                json!({"topic": topic, "style": "documentary", "voice_name": "Kore",
                       "tts_provider": "gemini", "language": "en"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(project["status"], "draft");
    assert_eq!(project["characters"], json!([]));
    project["id"].as_str().unwrap().to_owned()
}

/// Adds `scenes` (`[{visual, narration, seconds}]`) to the project; their ids.
async fn add_scenes(client: &Client, project: &str, scenes: &[(&str, &str, f64)]) -> Vec<String> {
    let mut ids = Vec::new();
    for (index, (visual, narration, seconds)) in scenes.iter().enumerate() {
        let scene = expect(
            client
                .post_json(
                    "/api/scenes",
                    json!({"project_id": project, "scene_number": index + 1,
                           "visual_description": visual, "narration": narration,
                           "duration_seconds": seconds}),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        ids.push(scene["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn command(client: &Client, body: Value) -> Value {
    expect(
        client.post_json("/api/workflow/command", body).await,
        StatusCode::OK,
    )
    .await
}

async fn workflow_state(client: &Client, project: &str) -> Value {
    expect(
        client.get(&format!("/api/workflow/state/{project}")).await,
        StatusCode::OK,
    )
    .await
}

/// Polls the project's state until `done` holds for it.
async fn wait_state(client: &Client, project: &str, done: impl Fn(&Value) -> bool) -> Value {
    eventually(GENERATION, async || {
        let state = workflow_state(client, project).await;
        if done(&state) {
            Ok(state)
        } else {
            Err(format!("the state is {state:#}"))
        }
    })
    .await
}

/// Listens to the project's events; what arrived so far.
fn listen(client: &Client, project: &str) -> Arc<Mutex<Vec<Value>>> {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let request = client.request(reqwest::Method::GET, &format!("/api/events/{project}"));
    let into = heard.clone();
    tokio::spawn(async move {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut stream = response.bytes_stream();
        let mut pending = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let message: String = pending.drain(..end + 2).collect();
                for line in message.lines() {
                    if let Some(data) = line.strip_prefix("data: ") {
                        into.lock()
                            .unwrap()
                            .push(serde_json::from_str(data).unwrap());
                    }
                }
            }
        }
    });
    heard
}

/// The bytes at an asset URL, read through the proxy.
async fn asset(client: &Client, url: &str) -> (StatusCode, Vec<u8>) {
    let response = client
        .request(reqwest::Method::GET, "/api/assets")
        .query(&[("url", url)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

/// Seconds of media, by ffprobe.
fn media_seconds(bytes: &[u8], dir: &std::path::Path, name: &str) -> f64 {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[tokio::test]
async fn a_short_is_made_from_a_topic_to_an_mp4_through_the_shortsai_api() {
    let root = tempfile::tempdir().unwrap();
    let (server, provider) = node(root.path()).await;
    let alice = server.user("alice@example.com").await;
    let project = new_project(&alice, "How bees wake up").await;
    let events = listen(&alice, &project);

    let script = expect(
        alice
            .post_json(
                "/api/ai/generate",
                json!({"action": "generate_script",
                       "params": {"topic": "How bees wake up", "style": "documentary", "language": "en",
                                  "durationConfig": {"min": 5, "max": 10, "targetScenes": 2}}}),
            )
            .await,
        StatusCode::OK,
    )
    .await["result"]
        .clone();
    assert_eq!(script["videoTitle"], "Bees at work");
    let scenes = script["scenes"].as_array().unwrap();
    assert_eq!(scenes.len(), 2);
    assert_eq!(scenes[1]["sceneNumber"], 2);
    assert_eq!(scenes[1]["durationSeconds"], 4.0);
    let chat = &provider.requests("/v1/chat/completions")[0];
    assert_eq!(chat.key.as_deref(), Some(KEY));
    assert_eq!(chat.body["model"], "gpt-4o-mini");
    assert!(chat.body.to_string().contains("exactly 2 scenes"));

    let texts: Vec<(String, String, f64)> = scenes
        .iter()
        .map(|s| {
            (
                s["visualDescription"].as_str().unwrap().to_owned(),
                s["narration"].as_str().unwrap().to_owned(),
                s["durationSeconds"].as_f64().unwrap(),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str, f64)> = texts
        .iter()
        .map(|(v, n, d)| (v.as_str(), n.as_str(), *d))
        .collect();
    let scene_ids = add_scenes(&alice, &project, &borrowed).await;

    let started = command(
        &alice,
        json!({"projectId": project, "action": "generate_all", "userId": "ignored"}),
    )
    .await;
    assert_eq!(started["message"], "Generation started");
    let done = wait_state(&alice, &project, |s| s["projectStatus"] != "generating").await;
    assert_eq!(done["projectStatus"], "completed", "{done:#}");
    assert_eq!(done["generationMessage"], "");
    for (scene, (visual, _, _)) in done["scenes"].as_array().unwrap().iter().zip(&texts) {
        assert_eq!(scene["image_status"], "completed");
        assert_eq!(scene["audio_status"], "completed");
        let (status, png) = asset(&alice, scene["image_url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            png,
            crate::ai_provider::picture(visual),
            "the provider's picture, byte for byte"
        );
        let (status, wav) = asset(&alice, scene["audio_url"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&wav[..4], b"RIFF");
        let words = scene["wordTimings"].as_array().unwrap();
        assert!(words.len() >= 5, "espeak-ng's word times: {words:?}");
    }
    let images = provider.requests("/v1/images/generations");
    assert_eq!(images.len(), 2);
    assert!(images
        .iter()
        .all(|r| r.body["response_format"] == "b64_json" && r.body["size"] == "1024x1792"));

    // The project, as the Studio reads it: scenes in order, lengths as
    // strings, no URLs; the media route has them.
    let read = expect(
        alice.get(&format!("/api/projects/{project}")).await,
        StatusCode::OK,
    )
    .await;
    let scenes = read["scenes"].as_array().unwrap();
    assert_eq!(scenes[0]["id"], scene_ids[0].as_str());
    assert!(scenes[0]["duration_seconds"].is_string());
    assert!(scenes[0].get("image_url").is_none());
    let media = expect(
        alice
            .get(&format!("/api/scenes/{}/media", scene_ids[0]))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(media["image_base64"], done["scenes"][0]["image_url"]);

    // What the events said, from init to the end.
    let heard = eventually(Duration::from_secs(10), async || {
        let heard = events.lock().unwrap().clone();
        let ended = heard
            .iter()
            .any(|m| m["type"] == "project_status_update" && m["status"] == "completed");
        if ended {
            Ok(heard)
        } else {
            Err(format!("heard {heard:#?}"))
        }
    })
    .await;
    assert_eq!(heard[0]["type"], "init");
    for field in ["image", "audio"] {
        let completed = heard.iter().filter(|m| {
            m["type"] == "scene_update"
                && m["field"] == field
                && m["status"] == "completed"
                && m["url"].is_string()
        });
        assert_eq!(completed.count(), 2, "{field}: {heard:#?}");
    }
    assert!(heard
        .iter()
        .any(|m| m["type"] == "scene_update" && m["status"] == "processing"));
    let narrated = heard
        .iter()
        .find(|m| m["field"] == "audio" && m["status"] == "completed")
        .unwrap();
    assert!(narrated["timings"].is_array() && narrated["duration"].is_string());

    // A scene's own video (the original asked Veo; here a one-scene render
    // of its picture and narration), which the project's render then uses.
    let video = command(
        &alice,
        json!({"projectId": project, "action": "generate_video", "sceneId": scene_ids[0]}),
    )
    .await;
    assert_eq!(video["message"], "Video generation started (Async)");
    let state = wait_state(&alice, &project, |s| {
        matches!(
            s["scenes"][0]["video_status"].as_str(),
            Some("completed" | "failed")
        )
    })
    .await;
    assert_eq!(state["scenes"][0]["video_status"], "completed", "{state:#}");
    assert_eq!(state["scenes"][0]["media_type"], "video");
    let (status, clip) = asset(&alice, state["scenes"][0]["video_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&clip[4..8], b"ftyp", "an MP4");

    // The render, from the project's scenes.
    let queued = expect(
        alice
            .post_json("/api/render", json!({"projectId": project}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queued["status"], "pending");
    assert_eq!(queued["success"], true);
    let render_id = queued["jobId"].as_str().unwrap().to_owned();
    let rendered = eventually(GENERATION, async || {
        let render = expect(
            alice.get(&format!("/api/render/{render_id}")).await,
            StatusCode::OK,
        )
        .await;
        match render["status"].as_str() {
            Some("completed" | "failed") => Ok(render),
            _ => Err(format!("the render is {render:#}")),
        }
    })
    .await;
    assert_eq!(rendered["status"], "completed", "{rendered:#}");
    assert_eq!(rendered["progress"], 100.0);
    let (status, mp4) = asset(&alice, rendered["resultUrl"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let spoken: f64 = done["scenes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .map(|id| {
            let scene = scenes.iter().find(|s| s["id"] == id).unwrap();
            scene["duration_seconds"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
                + 0.4
        })
        .sum();
    let seconds = media_seconds(&mp4, root.path(), "short.mp4");
    assert!(
        (seconds - spoken).abs() < 0.6,
        "the short lasts {seconds} s; its narration and pauses {spoken} s"
    );

    // Video players seek: a range of the MP4.
    let partial = alice
        .request(reqwest::Method::GET, "/api/assets")
        .query(&[("url", rendered["resultUrl"].as_str().unwrap())])
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(partial.bytes().await.unwrap().len(), 100);
}

#[tokio::test]
async fn pause_resume_cancel_and_skip_do_what_the_original_did() {
    let root = tempfile::tempdir().unwrap();
    let (server, provider) = node(root.path()).await;
    let alice = server.user("alice@example.com").await;
    let project = new_project(&alice, "Slow pictures").await;
    let scenes = add_scenes(
        &alice,
        &project,
        &[
            ("SLOW one", "One.", 2.0),
            ("SLOW two", "Two.", 2.0),
            ("SLOW three", "Three.", 2.0),
        ],
    )
    .await;

    // Paused while the first picture is drawn: that task ends, no other starts.
    command(
        &alice,
        json!({"projectId": project, "action": "generate_all"}),
    )
    .await;
    let paused = command(&alice, json!({"projectId": project, "action": "pause"})).await;
    assert_eq!(paused["message"], "Generation paused");
    let state = wait_state(&alice, &project, |s| {
        s["scenes"][0]["image_status"] == "completed"
    })
    .await;
    assert_eq!(state["projectStatus"], "paused");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let state = workflow_state(&alice, &project).await;
    assert_eq!(state["scenes"][1]["image_status"], "pending", "{state:#}");
    assert_eq!(provider.requests("/v1/images/generations").len(), 1);

    // Skipped: its picture and narration count as made.
    let skipped = command(
        &alice,
        json!({"projectId": project, "action": "skip_scene", "sceneId": scenes[1]}),
    )
    .await;
    assert_eq!(skipped["message"], "Scene skipped");
    let state = workflow_state(&alice, &project).await;
    assert_eq!(state["scenes"][1]["image_status"], "completed");
    assert_eq!(state["scenes"][1]["error"], "Skipped by user");

    // Resumed, then cancelled while the third picture is drawn: the
    // project fails, so does what was not made, and the job is cancelled.
    let resumed = command(&alice, json!({"projectId": project, "action": "resume"})).await;
    assert_eq!(resumed["message"], "Generation resumed");
    wait_state(&alice, &project, |s| {
        s["generationMessage"] == "Generating Image for Scene 3..."
    })
    .await;
    let cancelled = command(&alice, json!({"projectId": project, "action": "cancel"})).await;
    assert_eq!(cancelled["message"], "Generation cancelled");
    let state = workflow_state(&alice, &project).await;
    assert_eq!(state["projectStatus"], "failed");
    assert_eq!(state["scenes"][2]["image_status"], "failed");
    assert_eq!(state["scenes"][2]["error"], "Cancelled by user");
    let jobs = expect(alice.get("/v1/jobs?pipeline=picture").await, StatusCode::OK).await;
    let picture_jobs = jobs["jobs"].as_array().unwrap();
    let cancelled_job = eventually(Duration::from_secs(30), async || {
        let jobs = expect(alice.get("/v1/jobs?pipeline=picture").await, StatusCode::OK).await;
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|job| job["state"] == "cancelled")
            .cloned()
            .ok_or(format!("{jobs:#}"))
    })
    .await;
    assert!(picture_jobs.len() >= 2, "{jobs:#}");
    assert!(cancelled_job["id"].is_string());

    // One asset again: queued and made alone, the project left as it is.
    let queued = command(&alice, json!({"projectId": project, "action": "regenerate_image", "sceneId": scenes[2], "force": true})).await;
    assert_eq!(queued["message"], "image queued");
    let state = wait_state(&alice, &project, |s| {
        s["scenes"][2]["image_status"] == "completed"
    })
    .await;
    assert_eq!(state["projectStatus"], "failed");
}

#[tokio::test]
async fn a_provider_failure_fails_the_asset_and_the_project_at_once_or_is_retried() {
    let root = tempfile::tempdir().unwrap();
    let (server, provider) = node(root.path()).await;
    let alice = server.user("alice@example.com").await;

    // A 503 is tried again within the task; a refusal is not.
    let project = new_project(&alice, "Refusals").await;
    add_scenes(
        &alice,
        &project,
        &[("FLAKY sky", "", 2.0), ("REFUSE this", "", 2.0)],
    )
    .await;
    command(
        &alice,
        json!({"projectId": project, "action": "generate_all_images"}),
    )
    .await;
    let state = wait_state(&alice, &project, |s| s["projectStatus"] != "generating").await;
    assert_eq!(state["projectStatus"], "failed");
    assert_eq!(state["scenes"][0]["image_status"], "completed");
    assert_eq!(state["scenes"][1]["image_status"], "failed");
    let error = state["scenes"][1]["error"].as_str().unwrap();
    assert!(error.contains("Model refusal"), "{error}");
    let refused = provider
        .requests("/v1/images/generations")
        .into_iter()
        .filter(|r| r.body.to_string().contains("REFUSE"))
        .count();
    assert_eq!(refused, 1, "a refusal is not retried");
    assert_eq!(
        provider
            .requests("/v1/images/generations")
            .iter()
            .filter(|r| r.body.to_string().contains("FLAKY"))
            .count(),
        2
    );

    // The provider's quota: 502 naming it; a user's own key is used, never kept.
    let quota = expect(
        alice
            .post_json(
                "/api/ai/generate",
                json!({"action": "generate_script", "params": {"topic": "QUOTA"}}),
            )
            .await,
        StatusCode::BAD_GATEWAY,
    )
    .await;
    assert!(
        quota["error"].as_str().unwrap().contains("Quota"),
        "{quota}"
    );
    let own = expect(
        alice
            .post_json(
                "/api/ai/generate",
                json!({"action": "generate_music_prompt",
                                                  "params": {"topic": "bees", "style": "calm"},
                                                  "apiKeys": {"openai": USERS_KEY}}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own["result"], "calm lo-fi piano, slow tempo");
    assert_eq!(
        provider.all_requests().last().unwrap().key.as_deref(),
        Some(USERS_KEY)
    );
}

#[tokio::test]
async fn without_a_provider_the_ai_routes_say_which_setting_is_missing() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::in_process(root.path(), &[]);
    let alice = server.user("alice@example.com").await;
    let missing = expect(
        alice
            .post_json(
                "/api/ai/generate",
                json!({"action": "generate_script", "params": {"topic": "bees"}}),
            )
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(missing["error"]
        .as_str()
        .unwrap()
        .contains("KINOFLOW_AI_BASE_URL"));
    let project = new_project(&alice, "No provider").await;
    add_scenes(&alice, &project, &[("a hive", "", 2.0)]).await;
    command(
        &alice,
        json!({"projectId": project, "action": "generate_all_images"}),
    )
    .await;
    let state = wait_state(&alice, &project, |s| s["projectStatus"] != "generating").await;
    assert_eq!(state["projectStatus"], "failed");
    assert!(
        state["scenes"][0]["error"]
            .as_str()
            .unwrap()
            .contains("KINOFLOW_AI_BASE_URL"),
        "{state:#}"
    );
    // With no worker secret the worker's webhook is off.
    let off = alice
        .http
        .post(format!("{}/api/webhooks/job-status", server.base))
        .bearer_auth("anything")
        .json(&json!({"jobId": "x", "status": "completed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_lock_refuses_another_session_and_checks_the_status() {
    let root = tempfile::tempdir().unwrap();
    let (server, _provider) = node(root.path()).await;
    let alice = server.user("alice@example.com").await;
    let project = new_project(&alice, "Locked").await;
    let lock = |session: &str| json!({"session_id": session});
    let path = format!("/api/projects/{project}/lock");
    let locked = expect(alice.post_json(&path, lock("tab-1")).await, StatusCode::OK).await;
    assert_eq!(locked["lock_session_id"], "tab-1");
    assert_eq!(locked["status"], "draft", "locking changes nothing else");
    let taken = expect(
        alice.post_json(&path, lock("tab-2")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(taken["error"], "Project is locked by another session");
    expect(alice.post_json(&path, lock("tab-1")).await, StatusCode::OK).await;
    let missing = expect(
        alice.post_json(&path, json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(missing["error"], "Missing session_id");

    let unlock = format!("/api/projects/{project}/unlock");
    let refused = expect(
        alice.post_json(&unlock, lock("tab-2")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(refused["error"], "Cannot unlock: locked by another session");
    let bad = expect(
        alice
            .post_json(
                &unlock,
                json!({"session_id": "tab-1", "status": "exploded"}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad["error"], "Validation Error");
    let unlocked = expect(
        alice
            .post_json(&unlock, json!({"session_id": "tab-1", "status": "paused"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unlocked["lock_session_id"], Value::Null);
    assert_eq!(unlocked["status"], "paused");
    expect(alice.post_json(&path, lock("tab-2")).await, StatusCode::OK).await;
}

#[tokio::test]
async fn the_worker_webhook_needs_the_secret_and_merges_what_it_reports() {
    let root = tempfile::tempdir().unwrap();
    let (server, _provider) = node(root.path()).await;
    let alice = server.user("alice@example.com").await;
    let project = new_project(&alice, "External worker").await;
    add_scenes(&alice, &project, &[("black", "", 1.0)]).await;
    let queued = expect(
        alice
            .post_json("/api/render", json!({"projectId": project}))
            .await,
        StatusCode::OK,
    )
    .await;
    let id = queued["jobId"].as_str().unwrap().to_owned();
    let hook = |token: Option<&str>, body: Value| {
        let mut request = alice
            .http
            .post(format!("{}/api/webhooks/job-status", server.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let report = json!({"jobId": id, "status": "processing", "progress": 40});
    let refused = expect(
        hook(None, report.clone()).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(refused["error"], "Unauthorized");
    expect(
        hook(Some("wrong"), report.clone()).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let accepted = expect(
        hook(Some(WORKER_SECRET), report).await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(accepted["success"], true);
    let bad = expect(
        hook(Some(WORKER_SECRET), json!({"status": "done"}))
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(bad["error"], "Missing jobId");
    expect(
        hook(
            Some(WORKER_SECRET),
            json!({"jobId": "no-such-render", "status": "failed"}),
        )
        .await
        .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // A status without progress keeps the progress; completed reads 100.
    expect(
        hook(
            Some(WORKER_SECRET),
            json!({"jobId": id, "status": "processing"}),
        )
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    let render = expect(
        alice.get(&format!("/api/render/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(render["progress"], 40.0);
    assert_eq!(render["status"], "processing");
    expect(
        hook(
            Some(WORKER_SECRET),
            json!({"jobId": id, "status": "completed", "resultUrl": "https://cdn.example/r.mp4"}),
        )
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    let render = expect(
        alice.get(&format!("/api/render/{id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(render["status"], "completed");
    assert_eq!(render["progress"], 100.0);
    assert_eq!(render["resultUrl"], "https://cdn.example/r.mp4");
}

#[tokio::test]
async fn assets_are_the_callers_own_and_nothing_is_fetched_from_elsewhere() {
    let root = tempfile::tempdir().unwrap();
    let (server, provider) = node(root.path()).await;
    let alice = server.user("alice@example.com").await;
    let mallory = server.user("mallory@example.com").await;
    let project = new_project(&alice, "Assets").await;
    add_scenes(&alice, &project, &[("a hive", "", 2.0)]).await;
    command(
        &alice,
        json!({"projectId": project, "action": "generate_all_images"}),
    )
    .await;
    let state = wait_state(&alice, &project, |s| s["projectStatus"] == "completed").await;
    let url = state["scenes"][0]["image_url"].as_str().unwrap().to_owned();
    let key = url.split("url=").nth(1).unwrap().to_owned();
    assert_eq!(asset(&alice, &url).await.0, StatusCode::OK);
    assert_eq!(
        asset(&alice, &key).await.0,
        StatusCode::OK,
        "a storage key works too"
    );
    let response = alice
        .request(reqwest::Method::GET, "/api/assets")
        .query(&[("url", url.as_str())])
        .send()
        .await
        .unwrap();
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=31536000"));
    assert_eq!(response.headers()["content-type"], "image/png");

    let (status, body) = asset(&mallory, &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"],
        "File not found in storage"
    );
    // Another host, even one naming the same key, is never fetched.
    let before = provider.all_requests().len();
    let provider_host = format!("{}/assets?url={key}", provider.base);
    for foreign in [
        format!("http://evil.example/api/assets?url={key}"),
        provider_host,
        format!("https://r2.example/{key}"),
        "jobs/../uploads".to_owned(),
    ] {
        assert_eq!(
            asset(&alice, &foreign).await.0,
            StatusCode::NOT_FOUND,
            "{foreign}"
        );
    }
    assert_eq!(
        provider.all_requests().len(),
        before,
        "kinoflow fetched from another host"
    );
    let missing = expect(alice.get("/api/assets").await, StatusCode::BAD_REQUEST).await;
    assert_eq!(missing["error"], "URL is required");
    let anonymous = expect(
        server.client().get(&format!("/api/assets?url={key}")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(anonymous["error"].is_string());
}

#[tokio::test]
async fn another_user_is_told_nothing_exists_and_bad_bodies_get_the_originals_400s() {
    let root = tempfile::tempdir().unwrap();
    let (server, _provider) = node(root.path()).await;
    let alice = server.user("alice@example.com").await;
    let mallory = server.user("mallory@example.com").await;
    let project = new_project(&alice, "Private").await;
    let scene = add_scenes(&alice, &project, &[("a hive", "Hello.", 2.0)])
        .await
        .remove(0);
    let queued = expect(
        alice
            .post_json("/api/render", json!({"projectId": project}))
            .await,
        StatusCode::OK,
    )
    .await;
    let render = queued["jobId"].as_str().unwrap();

    let p = format!("/api/projects/{project}");
    let s = format!("/api/scenes/{scene}");
    for response in [
        mallory.get(&p).await,
        mallory.patch_json(&p, json!({"topic": "mine"})).await,
        mallory.delete(&p).await,
        mallory
            .post_json(&format!("{p}/lock"), json!({"session_id": "x"}))
            .await,
        mallory
            .post_json(&format!("{p}/unlock"), json!({"session_id": "x"}))
            .await,
        mallory.patch_json(&s, json!({"narration": "mine"})).await,
        mallory.delete(&s).await,
        mallory.get(&format!("{s}/media")).await,
        mallory
            .post_json(
                "/api/scenes",
                json!({"project_id": project, "scene_number": 9,
            "visual_description": "x", "narration": "x", "duration_seconds": 1}),
            )
            .await,
        mallory
            .post_json(
                "/api/workflow/command",
                json!({"projectId": project, "action": "generate_all"}),
            )
            .await,
        mallory.get(&format!("/api/workflow/state/{project}")).await,
        mallory.get(&format!("/api/events/{project}")).await,
        mallory
            .post_json("/api/render", json!({"projectId": project}))
            .await,
        mallory.get(&format!("/api/render/{render}")).await,
    ] {
        let url = response.url().to_string();
        let body = expect(response, StatusCode::NOT_FOUND).await;
        assert!(body["error"].is_string(), "{url}: {body}");
    }
    let listed = expect(mallory.get("/api/projects").await, StatusCode::OK).await;
    assert_eq!(listed, json!([]));
    let page = expect(
        alice.get("/api/projects?limit=10&offset=0").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["meta"]["total"], 1);

    // Bad bodies: zod's Validation Error, the original's own words, never a 500.
    let invalid = expect(
        alice
            .post_json("/api/projects", json!({"topic": "x"}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(invalid["error"], "Validation Error");
    assert!(
        invalid["details"]["style"]["_errors"].is_array(),
        "{invalid}"
    );
    let wrong_type = expect(
        alice.patch_json(&p, json!({"include_music": "yes"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        wrong_type["details"]["include_music"]["_errors"][0],
        "Expected boolean, received string"
    );
    let status = expect(
        alice.patch_json(&p, json!({"status": "exploded"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(status["error"], "Validation Error");
    let not_json = alice
        .request(reqwest::Method::POST, "/api/workflow/command")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let not_json = expect(not_json, StatusCode::BAD_REQUEST).await;
    assert!(not_json["error"].as_str().unwrap().contains("not JSON"));
    for (body, error) in [
        (
            json!({"action": "generate_all"}),
            "Missing projectId or action",
        ),
        (
            json!({"projectId": project, "action": "explode"}),
            "Unknown action: explode",
        ),
        (
            json!({"projectId": project, "action": "skip_scene"}),
            "sceneId is required for this action",
        ),
        (
            json!({"projectId": project, "action": "regenerate_image", "sceneId": "nope"}),
            "Scene not found in this project",
        ),
    ] {
        let refused = expect(
            alice.post_json("/api/workflow/command", body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(refused["error"], error);
    }
    let scenes = expect(
        alice
            .post_json("/api/scenes", json!({"project_id": project}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(scenes["error"], "Missing required fields");
    let render = expect(
        alice.post_json("/api/render", json!({"scenes": []})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        render["error"],
        "Invalid payload: projectId and scenes array required"
    );
    let foreign = expect(
        alice
            .post_json("/api/render", json!({"projectId": project, "scenes": [{"imageUrl": "https://evil.example/x.png"}]}))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        foreign["error"],
        "scenes[0].imageUrl is not an asset of yours"
    );
    let action = expect(
        alice
            .post_json(
                "/api/ai/generate",
                json!({"action": "explode", "params": {}}),
            )
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(action["error"], "Validation Error");
    let anonymous = expect(
        server.client().get("/api/projects").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(anonymous["error"].is_string());
}

#[tokio::test]
async fn two_nodes_on_postgres_share_projects_events_and_assets() {
    let database = crate::harness::TestDatabase::create().await;
    let root = tempfile::tempdir().unwrap();
    let provider = Provider::start().await;
    let blobs = root.path().join("shared-blobs");
    let shared = |workers: &'static str| -> Vec<String> {
        [
            "--database-url",
            database.url.as_str(),
            "--storage-url",
            blobs.to_str().unwrap(),
            "--jwt-secret",
            "a-shared-secret-for-every-node",
            "--public-url",
            "http://kinoflow.test",
            "--ai-base-url",
            &provider.base,
            "--ai-api-key",
            KEY,
            "--workers",
            workers,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let api_only = shared("0");
    let api = Server::in_process(&root.path().join("api"), &as_args(&api_only));
    let working = shared("2");
    let worker = Server::in_process(&root.path().join("worker"), &as_args(&working));
    let alice = api.user("alice@example.com").await;
    let mut on_worker = worker.client();
    on_worker.token = alice.token.clone();

    let project = new_project(&alice, "Across nodes").await;
    add_scenes(
        &alice,
        &project,
        &[
            ("a hive", "Bees wake.", 2.0),
            ("a flower", "They fly.", 2.0),
        ],
    )
    .await;
    let events = listen(&on_worker, &project);
    tokio::time::sleep(Duration::from_millis(500)).await;
    command(
        &alice,
        json!({"projectId": project, "action": "generate_all"}),
    )
    .await;
    let heard = eventually(GENERATION, async || {
        let heard = events.lock().unwrap().clone();
        let ended = heard
            .iter()
            .any(|m| m["type"] == "project_status_update" && m["status"] == "completed");
        if ended {
            Ok(heard)
        } else {
            let state = workflow_state(&alice, &project).await;
            let jobs = expect(alice.get("/v1/jobs").await, StatusCode::OK).await;
            Err(format!(
                "the other node heard {} messages; the state is {state}; the jobs {jobs}",
                heard.len()
            ))
        }
    })
    .await;
    assert!(heard.iter().any(|m| m["type"] == "scene_update"
        && m["field"] == "audio"
        && m["status"] == "completed"));

    // What one node made, the other serves.
    let state = workflow_state(&alice, &project).await;
    let url = state["scenes"][0]["image_url"].as_str().unwrap();
    assert!(
        url.starts_with("http://kinoflow.test/api/assets?url="),
        "{url}"
    );
    assert_eq!(asset(&on_worker, url).await.0, StatusCode::OK);
    let page = expect(
        on_worker
            .get("/api/projects?limit=5&is_archived=false")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["meta"]["total"], 1);
    let path = format!("/api/projects/{project}/lock");
    expect(
        alice.post_json(&path, json!({"session_id": "a"})).await,
        StatusCode::OK,
    )
    .await;
    expect(
        on_worker.post_json(&path, json!({"session_id": "b"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    let unlock = format!("/api/projects/{project}/unlock");
    expect(
        on_worker
            .post_json(&unlock, json!({"session_id": "a", "status": "draft"}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        alice.delete(&format!("/api/projects/{project}")).await,
        StatusCode::OK,
    )
    .await;
    expect(
        on_worker.get(&format!("/api/projects/{project}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    drop((api, worker));
    database.drop().await;
}

fn as_args(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn music_without_a_music_model_fails_alone_and_an_edit_keeps_the_statuses() {
    let root = tempfile::tempdir().unwrap();
    let (server, _provider) = node(root.path()).await;
    let alice = server.user("alice@example.com").await;
    let project = expect(
        alice
            .post_json(
                "/api/projects",
                json!({"topic": "Music", "style": "calm", "voice_name": "Kore",
                       "tts_provider": "groq", "include_music": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(project["bg_music_status"], "pending");
    let id = project["id"].as_str().unwrap().to_owned();
    let scene = add_scenes(&alice, &id, &[("a hive", "", 2.0)])
        .await
        .remove(0);
    command(&alice, json!({"projectId": id, "action": "generate_all"})).await;
    let state = wait_state(&alice, &id, |s| s["projectStatus"] != "generating").await;
    assert_eq!(state["projectStatus"], "completed", "{state:#}");
    assert_eq!(state["music_status"], "failed");

    // An edit of the text leaves the assets' statuses as the workflow set them.
    let edited = expect(
        alice
            .patch_json(
                &format!("/api/scenes/{scene}"),
                json!({"narration": "Now it speaks."}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["image_status"], "completed");
    assert_eq!(edited["narration"], "Now it speaks.");
}
