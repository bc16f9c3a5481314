//! `GET /api/events/{projectId}`: a project's generation as Server-Sent
//! Events, the original's messages (`init`, `scene_update`,
//! `music_update`, `project_status_update`, `: ping` every 30 s). The
//! original kept connections in one process's memory, so an event made on
//! another node never came; here each stream reads the project from the
//! store and says what changed, whichever node changed it. Only the owner
//! may listen.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde_json::{json, Value};
use tokio_stream::wrappers::ReceiverStream;

use super::assets::upload_url;
use super::error::{Caller, ShortsError};
use super::projects::owned_project;
use super::records::{ProjectRow, Projects, SceneRow, Scenes};
use super::views::word_timings;
use super::vocabulary::decimal;
use crate::error::ApiError;
use crate::state::AppState;

/// How often a stream looks at its project.
const POLL: Duration = Duration::from_millis(500);
/// The keep-alive comment's period, as the original's.
const PING: Duration = Duration::from_secs(30);

/// A project's generation, as it happens.
#[utoipa::path(get, path = "/api/events/{projectId}", tag = "shortsai", operation_id = "shortsai_events", security(("bearer" = [])),
    params(("projectId" = String, Path, description = "The project")),
    responses((status = 200, description = "text/event-stream: `data: {\"type\": …}` messages"),
              (status = 404, description = "`{\"error\": \"Project not found\"}`")))]
pub async fn events(
    State(state): State<AppState>,
    Caller(user): Caller,
    Path(project_id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ShortsError> {
    owned_project(&state, &user, &project_id).await?;
    let (sender, receiver) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        if let Err(e) = watch(&state, &project_id, sender).await {
            tracing::debug!(project = %project_id, error = %e.describe(), "a ShortsAI event stream ended");
        }
    });
    Ok(Sse::new(ReceiverStream::new(receiver))
        .keep_alive(KeepAlive::new().interval(PING).text("ping")))
}

/// Sends `init`, then what changes, until the client goes, the project is
/// deleted or the server shuts down.
async fn watch(
    state: &AppState,
    project_id: &str,
    sender: tokio::sync::mpsc::Sender<Result<Event, Infallible>>,
) -> Result<(), ApiError> {
    let mut seen: Option<Snapshot> = None;
    loop {
        let Some(now) = snapshot(state, project_id).await? else {
            return Ok(());
        };
        for message in changes(seen.as_ref(), &now) {
            let event = Event::default().data(message.to_string());
            if sender.send(Ok(event)).await.is_err() {
                return Ok(());
            }
        }
        seen = Some(now);
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = sender.closed() => return Ok(()),
            _ = state.shutdown.cancelled() => return Ok(()),
        }
    }
}

/// What a client sees of a project.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    status: String,
    music: Asset,
    /// By scene id, with the scenes' order.
    scenes: BTreeMap<String, SceneState>,
    init: Value,
}

#[derive(Debug, Clone, PartialEq)]
struct Asset {
    status: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct SceneState {
    /// Image, audio, video.
    assets: [Asset; 3],
    error: Option<String>,
    media_type: String,
    timings: Value,
    duration: String,
}

const FIELDS: [&str; 3] = ["image", "audio", "video"];

async fn snapshot(state: &AppState, project_id: &str) -> Result<Option<Snapshot>, ApiError> {
    let Some(project) = Projects(state.store.as_ref()).get(project_id).await? else {
        return Ok(None);
    };
    let scenes = Scenes(state.store.as_ref()).of_project(project_id).await?;
    let url = |upload: &Option<String>| upload.as_deref().map(|id| upload_url(state, id));
    let music = Asset {
        status: project.bg_music_status.clone(),
        url: url(&project.bg_music_upload_id),
    };
    let states = scenes
        .iter()
        .map(|scene| {
            let asset = |status: &str, upload: &Option<String>| Asset {
                status: Some(status.to_owned()),
                url: url(upload),
            };
            let scene_state = SceneState {
                assets: [
                    asset(&scene.image_status, &scene.image_upload_id),
                    asset(&scene.audio_status, &scene.audio_upload_id),
                    asset(&scene.video_status, &scene.video_upload_id),
                ],
                error: scene.error_message.clone(),
                media_type: scene.media_type.clone(),
                timings: word_timings(scene),
                duration: decimal(scene.duration_seconds),
            };
            (scene.id.clone(), scene_state)
        })
        .collect();
    Ok(Some(Snapshot {
        init: init(&project, &scenes, &music, &url),
        status: project.status,
        music,
        scenes: states,
    }))
}

/// The whole state, in camelCase, as the first message.
fn init(
    project: &ProjectRow,
    scenes: &[SceneRow],
    music: &Asset,
    url: &dyn Fn(&Option<String>) -> Option<String>,
) -> Value {
    let scenes: Vec<Value> = scenes
        .iter()
        .map(|scene| {
            json!({
                "id": scene.id,
                "sceneNumber": scene.scene_number,
                "imageStatus": scene.image_status,
                "audioStatus": scene.audio_status,
                "imageUrl": url(&scene.image_upload_id),
                "audioUrl": url(&scene.audio_upload_id),
                "errorMessage": scene.error_message,
                "visualDescription": scene.visual_description,
                "narration": scene.narration,
                "durationSeconds": decimal(scene.duration_seconds),
                "videoStatus": scene.video_status,
                "videoUrl": url(&scene.video_upload_id),
                "mediaType": scene.media_type,
            })
        })
        .collect();
    json!({
        "type": "init",
        "projectStatus": project.status,
        "scenes": scenes,
        "bgMusicStatus": music.status,
        "bgMusicUrl": music.url,
    })
}

/// The messages that tell a client who saw `before` what `now` is.
fn changes(before: Option<&Snapshot>, now: &Snapshot) -> Vec<Value> {
    let Some(before) = before else {
        return vec![now.init.clone()];
    };
    // Scenes added, removed or reordered: the whole state again.
    if before.scenes.keys().ne(now.scenes.keys()) {
        return vec![now.init.clone()];
    }
    let mut messages = Vec::new();
    for (id, scene) in &now.scenes {
        let Some(old) = before.scenes.get(id) else {
            continue;
        };
        for (index, field) in FIELDS.iter().enumerate() {
            let asset = &scene.assets[index];
            if *asset == old.assets[index] && (index != 1 || scene.timings == old.timings) {
                continue;
            }
            let mut message = json!({
                "type": "scene_update",
                "sceneId": id,
                "field": field,
                "status": asset.status,
                "error": scene.error,
                "mediaType": scene.media_type,
            });
            if let Some(url) = &asset.url {
                message["url"] = json!(url);
            }
            if index == 1 && !scene.timings.is_null() {
                message["timings"] = scene.timings.clone();
                message["duration"] = json!(scene.duration);
            }
            messages.push(message);
        }
    }
    if now.music != before.music {
        let mut message = json!({"type": "music_update", "status": now.music.status});
        if let Some(url) = &now.music.url {
            message["url"] = json!(url);
        }
        messages.push(message);
    }
    if now.status != before.status {
        messages.push(json!({"type": "project_status_update", "status": now.status}));
    }
    messages
}
