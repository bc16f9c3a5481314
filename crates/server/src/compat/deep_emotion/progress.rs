//! DeepEmotion's live progress: Socket.IO at `/socket.io`, event
//! `processing_update` `{video_id, status, progress}` on the default
//! namespace. A socket that brings a token (`auth.token`, or `?token=`)
//! joins its owner's room and hears of their videos only; one without a
//! token hears of every video only when the operator allows it (the
//! original web client connects without one), and of none otherwise.
//!
//! Progress is read from the store, as `/v1`'s event streams read it, so
//! every API node relays every video, whichever worker runs it.

use std::collections::HashMap;
use std::time::Duration;

use kinoflow_engine::store::{JobEvent, JobState};
use serde::Serialize;
use serde_json::Value;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;

use super::caller::authenticate;
use super::error::DeepEmotionError;
use super::records::{Records, VideoRow};
use super::results;
use crate::compat::query::query_param;
use crate::compat::states::celery_status;
use crate::error::ApiError;
use crate::state::AppState;

/// The event the web client listens for.
const EVENT: &str = "processing_update";
/// The room of sockets without a token, when they may hear progress.
const PUBLIC_ROOM: &str = "public";
/// How often the relay reads new progress from the store.
const POLL: Duration = Duration::from_millis(300);
/// Events read per video per poll.
const BATCH: i64 = 200;

/// Who a socket listens for, settled when it connects.
#[derive(Debug, Clone)]
enum Listener {
    /// The owner of a valid token: their videos.
    Owner(String),
    /// No token, and the operator lets such sockets hear every video.
    Public,
    /// No token: nothing.
    Nobody,
}

/// The Socket.IO layer, with the relay of progress to its sockets running
/// until the server shuts down. Call from within the server's runtime.
pub fn socket_io(state: &AppState) -> SocketIoLayer {
    let (layer, io) = SocketIo::builder().build_layer();
    let admit = {
        let state = state.clone();
        move |socket: SocketRef, TryData(auth): TryData<Value>| {
            let state = state.clone();
            async move { admit(&state, &socket, auth.ok()).await }
        }
    };
    // The default namespace exists before anything is emitted on it.
    io.ns("/", join_room.with(admit));
    tokio::spawn(
        Relay {
            state: state.clone(),
            io,
            followed: HashMap::new(),
        }
        .run(),
    );
    layer
}

/// Connect middleware: settles who the socket listens for; a token that is
/// not valid refuses the connection (the client gets `connect_error`).
async fn admit(state: &AppState, socket: &SocketRef, auth: Option<Value>) -> Result<(), String> {
    let token = auth
        .as_ref()
        .and_then(|auth| auth.get("token"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| query_param(socket.req_parts().uri.query(), "token"));
    let listener = match token {
        Some(token) => match authenticate(state, token.trim_start_matches("Bearer ")).await {
            Ok(user) => Listener::Owner(user.id),
            Err(refusal) => return Err(refusal_message(refusal)),
        },
        None if state.compat.socketio_public_progress => Listener::Public,
        None => Listener::Nobody,
    };
    socket.extensions.insert(listener);
    Ok(())
}

fn refusal_message(refusal: DeepEmotionError) -> String {
    match refusal {
        DeepEmotionError::Api(error) => error.describe(),
        DeepEmotionError::Said(_, body) => body["error"].as_str().unwrap_or("refused").to_owned(),
    }
}

/// Connect handler: the socket joins the room it listens to.
async fn join_room(socket: SocketRef) {
    match socket.extensions.get::<Listener>() {
        Some(Listener::Owner(user_id)) => socket.join(owner_room(&user_id)),
        Some(Listener::Public) => socket.join(PUBLIC_ROOM),
        Some(Listener::Nobody) | None => {}
    }
}

fn owner_room(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// What the web client reads.
#[derive(Debug, Serialize)]
struct Update<'a> {
    video_id: &'a str,
    status: &'static str,
    progress: i64,
}

/// Where a followed video's events were read up to.
#[derive(Debug, Default)]
struct Followed {
    after: i64,
    /// The last progress heard, in percent.
    progress: i64,
}

/// Reads the progress of videos from the store and emits it.
struct Relay {
    state: AppState,
    io: SocketIo,
    followed: HashMap<String, Followed>,
}

impl Relay {
    async fn run(mut self) {
        let shutdown = self.state.shutdown.clone();
        loop {
            if let Err(e) = self.relay_once().await {
                tracing::warn!(error = %e.describe(), "could not relay DeepEmotion progress");
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        // Long-polling requests end now rather than at their next ping.
        self.io.close().await;
    }

    async fn relay_once(&mut self) -> Result<(), ApiError> {
        let videos = Records(self.state.store.as_ref()).relayed_videos().await?;
        self.followed.retain(|job_id, _| {
            videos
                .iter()
                .any(|video| video.job_id.as_deref() == Some(job_id))
        });
        for video in videos {
            // One video's trouble does not hold the others' progress back.
            if let Err(e) = self.relay_video(&video).await {
                tracing::warn!(video_id = ?video.job_id, error = %e.describe(), "could not relay a video's progress");
            }
        }
        Ok(())
    }

    async fn relay_video(&mut self, video: &VideoRow) -> Result<(), ApiError> {
        let Some(job_id) = video.job_id.clone() else {
            return Ok(());
        };
        let engine = &self.state.engine;
        let followed = self.followed.entry(job_id.clone()).or_default();
        let events = engine.events_after(&job_id, followed.after, BATCH).await?;
        let mut updates = Vec::new();
        for event in &events {
            followed.after = event.id;
            updates.extend(update_of(event, &mut followed.progress));
        }
        let ended = if events.is_empty() {
            // Nothing new: the job may have ended before this node heard
            // (or been deleted).
            engine
                .job(&job_id)
                .await?
                .is_none_or(|job| job.state.is_terminal())
        } else {
            updates.iter().any(|(state, _)| state.is_terminal())
        };
        if updates
            .iter()
            .any(|(state, _)| *state == JobState::Succeeded)
        {
            // Kept before the client, told, asks for them; the detail
            // reads them itself should this fail.
            if let Err(e) = self.keep_numbers(video, &job_id).await {
                tracing::warn!(video_id = %job_id, error = %e.describe(), "could not keep a video's numbers");
            }
        }
        for (state, progress) in updates {
            self.emit(video, &job_id, state, progress).await;
        }
        if ended && video.ended_at.is_none() {
            Records(self.state.store.as_ref())
                .mark_ended(&video.upload_id)
                .await?;
        }
        Ok(())
    }

    async fn keep_numbers(&self, video: &VideoRow, job_id: &str) -> Result<(), ApiError> {
        if let Some(job) = self.state.engine.job(job_id).await? {
            results::numbers(&self.state, video, &job).await?;
        }
        Ok(())
    }

    async fn emit(&self, video: &VideoRow, job_id: &str, state: JobState, progress: i64) {
        let update = Update {
            video_id: job_id,
            status: celery_status(state),
            progress,
        };
        let Some(namespace) = self.io.of("/") else {
            return;
        };
        let mut rooms = vec![owner_room(&video.owner_id)];
        if self.state.compat.socketio_public_progress {
            rooms.push(PUBLIC_ROOM.to_owned());
        }
        if let Err(e) = namespace.to(rooms).emit(EVENT, &update).await {
            tracing::debug!(error = %e, "could not emit DeepEmotion progress");
        }
    }
}

/// The job state and percentage an event tells, if it tells one; a
/// progress event moves `progress`.
fn update_of(event: &JobEvent, progress: &mut i64) -> Option<(JobState, i64)> {
    match event.kind.as_str() {
        "progress" => {
            let fraction = event.data["progress"].as_f64()?;
            *progress = (fraction * 100.0).round().clamp(0.0, 100.0) as i64;
            Some((JobState::Running, *progress))
        }
        "state" => {
            let state = event.data["state"].as_str().and_then(JobState::parse)?;
            let percent = match state {
                JobState::Succeeded => 100,
                // The original said 0 when it failed.
                JobState::Failed | JobState::Cancelled => 0,
                JobState::Queued | JobState::Retrying | JobState::Running => *progress,
            };
            Some((state, percent))
        }
        _ => None,
    }
}
