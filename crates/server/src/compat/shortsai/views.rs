//! Projects and scenes in the JSON ShortsAI's clients read: Prisma's
//! snake_case columns, times as ISO strings, `duration_seconds` as a
//! decimal string, and no asset URLs on `GET /api/projects/{id}` (they
//! come from `/api/scenes/{id}/media` and `/api/workflow/state`).

use serde_json::{json, Value};

use super::records::{ProjectRow, SceneRow};
use super::vocabulary::{decimal, iso_time};

/// A project's own columns, as the lock routes answer with.
pub fn project(row: &ProjectRow) -> Value {
    let parse = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    json!({
        "id": row.id,
        "user_id": row.owner_id,
        "topic": row.topic,
        "style": row.style,
        "language": row.language,
        "voice_name": row.voice_name,
        "tts_provider": row.tts_provider,
        "video_model": row.video_model,
        "audio_model": row.audio_model,
        "include_music": row.include_music != 0,
        "bg_music_prompt": row.bg_music_prompt,
        "bg_music_status": row.bg_music_status,
        "status": row.status,
        "generated_title": row.generated_title,
        "generated_description": row.generated_description,
        "duration_config": parse(&row.duration_config),
        "lock_session_id": row.lock_session_id,
        "lock_expires_at": row.lock_expires_at.map(iso_time),
        "is_archived": row.is_archived != 0,
        "tags": parse(&Some(row.tags.clone())),
        "folder_id": null,
        "created_at": iso_time(row.created_at),
        "updated_at": iso_time(row.updated_at),
    })
}

/// A project with its scenes in order, and no characters (kinoflow keeps none).
pub fn project_with_scenes(row: &ProjectRow, scenes: &[SceneRow]) -> Value {
    let mut value = project(row);
    value["scenes"] = scenes.iter().map(scene).collect();
    value["characters"] = json!([]);
    value
}

/// A project as listed: its main columns and its scenes' statuses.
pub fn listed_project(row: &ProjectRow, scenes: &[SceneRow]) -> Value {
    let mut value = project(row);
    value["scenes"] = scenes
        .iter()
        .map(|s| {
            json!({"id": s.id, "scene_number": s.scene_number, "image_status": s.image_status,
                   "audio_status": s.audio_status, "video_status": s.video_status,
                   "media_type": s.media_type})
        })
        .collect();
    value
}

/// A scene's columns, without its asset URLs.
pub fn scene(row: &SceneRow) -> Value {
    json!({
        "id": row.id,
        "project_id": row.project_id,
        "scene_number": row.scene_number,
        "visual_description": row.visual_description,
        "narration": row.narration,
        "duration_seconds": decimal(row.duration_seconds),
        "image_status": row.image_status,
        "audio_status": row.audio_status,
        "sfx_status": "draft",
        "video_status": row.video_status,
        "media_type": row.media_type,
        "word_timings": word_timings(row),
        "error_message": row.error_message,
        "image_attempts": row.image_attempts,
        "audio_attempts": row.audio_attempts,
        "sfx_attempts": 0,
        "video_attempts": row.video_attempts,
        "created_at": iso_time(row.created_at),
        "deleted_at": row.deleted_at.map(iso_time),
        "status": "DRAFT",
        "version": row.version,
    })
}

/// The scene's word times, `null` when it has none.
pub fn word_timings(row: &SceneRow) -> Value {
    row.word_timings
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}
