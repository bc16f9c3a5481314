//! ShortsAI's tables beside the store's (a store [`Extension`]): projects,
//! their scenes and renders. Ids are UUIDs, as the original's clients
//! expect; times are milliseconds; flags are integers (0 or 1), so that
//! the same SQL serves SQLite and PostgreSQL. An asset is an upload of the
//! project owner's, named by its id. The task a project is running (at
//! most one) is a kinoflow job, named on the project row.

mod projects;
mod renders;
mod scenes;

pub use projects::{NewProject, ProjectEdit, ProjectRow, Projects, Task, TaskKind};
pub use renders::{Renders, Report};
pub use scenes::{NewScene, SceneEdit, SceneRow, Scenes};

use kinoflow_engine::store::{Extension, ExtensionMigration};

/// The first schema; SQLite reads `BIGINT` and `DOUBLE PRECISION` as its
/// integer and real.
const SCHEMA: &str = "
CREATE TABLE shortsai_projects (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    style TEXT NOT NULL,
    language TEXT NOT NULL,
    voice_name TEXT NOT NULL,
    tts_provider TEXT NOT NULL,
    video_model TEXT NOT NULL,
    audio_model TEXT,
    include_music BIGINT NOT NULL,
    bg_music_prompt TEXT,
    bg_music_status TEXT,
    bg_music_upload_id TEXT,
    status TEXT NOT NULL,
    generated_title TEXT,
    generated_description TEXT,
    duration_config TEXT,
    lock_session_id TEXT,
    lock_expires_at BIGINT,
    tags TEXT NOT NULL,
    is_archived BIGINT NOT NULL,
    task_job_id TEXT,
    task_kind TEXT,
    task_scene_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX shortsai_projects_owner ON shortsai_projects (owner_id, created_at);
CREATE TABLE shortsai_scenes (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES shortsai_projects(id) ON DELETE CASCADE,
    scene_number BIGINT NOT NULL,
    visual_description TEXT NOT NULL,
    narration TEXT NOT NULL,
    duration_seconds DOUBLE PRECISION NOT NULL,
    image_status TEXT NOT NULL,
    audio_status TEXT NOT NULL,
    video_status TEXT NOT NULL,
    image_upload_id TEXT,
    audio_upload_id TEXT,
    video_upload_id TEXT,
    media_type TEXT NOT NULL,
    word_timings TEXT,
    error_message TEXT,
    image_attempts BIGINT NOT NULL,
    audio_attempts BIGINT NOT NULL,
    video_attempts BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX shortsai_scenes_project ON shortsai_scenes (project_id, scene_number);
CREATE TABLE shortsai_renders (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
    reported_status TEXT,
    reported_progress DOUBLE PRECISION,
    reported_url TEXT,
    reported_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
";

/// The tables.
pub const EXTENSION: Extension = Extension {
    name: "shortsai",
    sqlite: &[ExtensionMigration {
        version: 1,
        description: "projects, scenes and renders",
        sql: SCHEMA,
    }],
    postgres: &[ExtensionMigration {
        version: 1,
        description: "projects, scenes and renders",
        sql: SCHEMA,
    }],
};
