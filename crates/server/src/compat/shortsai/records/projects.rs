//! The projects table: what a short is about, its status, its music, its
//! lock, and the one task it is running.

use kinoflow_engine::store::{now_ms, Store};
use sqlx::FromRow;

use crate::compat::tables::{failed, on_database};
use crate::error::ApiError;

/// A project's columns, in the order `PROJECT_COLUMNS` reads them.
#[derive(Debug, Clone, FromRow)]
pub struct ProjectRow {
    pub id: String,
    pub owner_id: String,
    pub topic: String,
    pub style: String,
    pub language: String,
    pub voice_name: String,
    pub tts_provider: String,
    pub video_model: String,
    pub audio_model: Option<String>,
    pub include_music: i64,
    pub bg_music_prompt: Option<String>,
    pub bg_music_status: Option<String>,
    pub bg_music_upload_id: Option<String>,
    pub status: String,
    pub generated_title: Option<String>,
    pub generated_description: Option<String>,
    /// JSON `{min, max, targetScenes?}`.
    pub duration_config: Option<String>,
    pub lock_session_id: Option<String>,
    pub lock_expires_at: Option<i64>,
    /// JSON array of strings.
    pub tags: String,
    pub is_archived: i64,
    pub task_job_id: Option<String>,
    pub task_kind: Option<String>,
    pub task_scene_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const PROJECT_COLUMNS: &str = "id, owner_id, topic, style, language, voice_name, tts_provider, \
     video_model, audio_model, include_music, bg_music_prompt, bg_music_status, \
     bg_music_upload_id, status, generated_title, generated_description, duration_config, \
     lock_session_id, lock_expires_at, tags, is_archived, task_job_id, task_kind, \
     task_scene_id, created_at, updated_at";

/// What a project's owner may set; the same fields make a new one.
#[derive(Debug, Clone)]
pub struct ProjectEdit {
    pub topic: String,
    pub style: String,
    pub language: String,
    pub voice_name: String,
    pub tts_provider: String,
    pub video_model: String,
    pub audio_model: Option<String>,
    pub include_music: bool,
    pub bg_music_prompt: Option<String>,
    pub generated_title: Option<String>,
    pub generated_description: Option<String>,
    pub duration_config: Option<String>,
    pub tags: String,
    pub is_archived: bool,
}

impl ProjectEdit {
    /// What `row` holds now, to be changed field by field.
    pub fn of(row: &ProjectRow) -> Self {
        Self {
            topic: row.topic.clone(),
            style: row.style.clone(),
            language: row.language.clone(),
            voice_name: row.voice_name.clone(),
            tts_provider: row.tts_provider.clone(),
            video_model: row.video_model.clone(),
            audio_model: row.audio_model.clone(),
            include_music: row.include_music != 0,
            bg_music_prompt: row.bg_music_prompt.clone(),
            generated_title: row.generated_title.clone(),
            generated_description: row.generated_description.clone(),
            duration_config: row.duration_config.clone(),
            tags: row.tags.clone(),
            is_archived: row.is_archived != 0,
        }
    }
}

/// A new project (in `draft`): its fields and its music's status.
pub struct NewProject {
    pub id: String,
    pub owner_id: String,
    pub fields: ProjectEdit,
    pub music_status: Option<String>,
}

/// What a task makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Image,
    Audio,
    Video,
    Music,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Music => "music",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Image, Self::Audio, Self::Video, Self::Music]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// The task a project runs: its job, what it makes, for which scene.
#[derive(Debug, Clone, FromRow)]
pub struct Task {
    pub project_id: String,
    pub job_id: String,
    pub kind: String,
    pub scene_id: Option<String>,
}

/// The table over one store.
pub struct Projects<'a>(pub &'a dyn Store);

impl Projects<'_> {
    pub async fn create(&self, new: &NewProject) -> Result<ProjectRow, ApiError> {
        let statement = format!(
            "INSERT INTO shortsai_projects (id, owner_id, topic, style, language, voice_name, \
             tts_provider, video_model, audio_model, include_music, bg_music_prompt, bg_music_status, \
             status, generated_title, generated_description, duration_config, tags, is_archived, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $15, $16, $17, $18, $18) \
             RETURNING {PROJECT_COLUMNS}"
        );
        let f = &new.fields;
        on_database!(self.0, |pool| sqlx::query_as(&statement)
            .bind(&new.id)
            .bind(&new.owner_id)
            .bind(&f.topic)
            .bind(&f.style)
            .bind(&f.language)
            .bind(&f.voice_name)
            .bind(&f.tts_provider)
            .bind(&f.video_model)
            .bind(&f.audio_model)
            .bind(i64::from(f.include_music))
            .bind(&f.bg_music_prompt)
            .bind(&new.music_status)
            .bind(&f.generated_title)
            .bind(&f.generated_description)
            .bind(&f.duration_config)
            .bind(&f.tags)
            .bind(i64::from(f.is_archived))
            .bind(now_ms())
            .fetch_one(pool)
            .await)
        .map_err(failed)
    }

    /// Project `id`, whoever owns it.
    pub async fn get(&self, id: &str) -> Result<Option<ProjectRow>, ApiError> {
        let statement = format!("SELECT {PROJECT_COLUMNS} FROM shortsai_projects WHERE id = $1");
        on_database!(self.0, |pool| sqlx::query_as(&statement)
            .bind(id)
            .fetch_optional(pool)
            .await)
        .map_err(failed)
    }

    /// The owner's projects, newest first, `archived` ones or the others
    /// (all when `None`); and how many there are in all.
    pub async fn of_owner(
        &self,
        owner_id: &str,
        archived: Option<bool>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ProjectRow>, i64), ApiError> {
        let condition = "owner_id = $1 AND ($2 < 0 OR is_archived = $2)";
        let archived = archived.map_or(-1, i64::from);
        let statement = format!(
            "SELECT {PROJECT_COLUMNS} FROM shortsai_projects WHERE {condition} \
             ORDER BY created_at DESC, id LIMIT $3 OFFSET $4"
        );
        let rows = on_database!(self.0, |pool| sqlx::query_as(&statement)
            .bind(owner_id)
            .bind(archived)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await)
        .map_err(failed)?;
        let count = format!("SELECT COUNT(*) FROM shortsai_projects WHERE {condition}");
        let total: (i64,) = on_database!(self.0, |pool| sqlx::query_as(&count)
            .bind(owner_id)
            .bind(archived)
            .fetch_one(pool)
            .await)
        .map_err(failed)?;
        Ok((rows, total.0))
    }

    /// Writes the fields an owner may set.
    pub async fn edit(&self, id: &str, f: &ProjectEdit) -> Result<(), ApiError> {
        let statement = "UPDATE shortsai_projects SET topic = $2, style = $3, language = $4, \
             voice_name = $5, tts_provider = $6, video_model = $7, audio_model = $8, \
             include_music = $9, bg_music_prompt = $10, generated_title = $11, \
             generated_description = $12, duration_config = $13, tags = $14, is_archived = $15, \
             updated_at = $16 WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(&f.topic)
            .bind(&f.style)
            .bind(&f.language)
            .bind(&f.voice_name)
            .bind(&f.tts_provider)
            .bind(&f.video_model)
            .bind(&f.audio_model)
            .bind(i64::from(f.include_music))
            .bind(&f.bg_music_prompt)
            .bind(&f.generated_title)
            .bind(&f.generated_description)
            .bind(&f.duration_config)
            .bind(&f.tags)
            .bind(i64::from(f.is_archived))
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    pub async fn set_status(&self, id: &str, status: &str) -> Result<(), ApiError> {
        self.write(
            "UPDATE shortsai_projects SET status = $2, updated_at = $3 WHERE id = $1",
            id,
            Some(status),
        )
        .await
    }

    /// The music's status; `None` leaves the project without music.
    pub async fn set_music_status(&self, id: &str, status: Option<&str>) -> Result<(), ApiError> {
        self.write(
            "UPDATE shortsai_projects SET bg_music_status = $2, updated_at = $3 WHERE id = $1",
            id,
            status,
        )
        .await
    }

    /// One statement that sets a text column of project `id` to `value`
    /// and its `updated_at` ($3).
    async fn write(&self, statement: &str, id: &str, value: Option<&str>) -> Result<(), ApiError> {
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(value)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    pub async fn delete(&self, id: &str) -> Result<(), ApiError> {
        on_database!(self.0, |pool| sqlx::query(
            "DELETE FROM shortsai_projects WHERE id = $1"
        )
        .bind(id)
        .execute(pool)
        .await
        .map(drop))
        .map_err(failed)
    }

    /// Locks the project for `session` until `until` (ms), unless another
    /// session's lock has not expired; whether it did.
    pub async fn lock(&self, id: &str, session: &str, until: i64) -> Result<bool, ApiError> {
        let statement = "UPDATE shortsai_projects SET lock_session_id = $2, lock_expires_at = $4 \
             WHERE id = $1 AND (lock_session_id IS NULL OR lock_session_id = $2 \
                                OR lock_expires_at IS NULL OR lock_expires_at <= $3)";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(session)
            .bind(now_ms())
            .bind(until)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1))
        .map_err(failed)
    }

    /// Unlocks the project (and sets `status`, when given), unless another
    /// session's lock has not expired; whether it did.
    pub async fn unlock(
        &self,
        id: &str,
        session: &str,
        status: Option<&str>,
    ) -> Result<bool, ApiError> {
        let statement =
            "UPDATE shortsai_projects SET lock_session_id = NULL, lock_expires_at = NULL, \
                 status = COALESCE($4, status) \
             WHERE id = $1 AND (lock_session_id IS NULL OR lock_session_id = $2 \
                                OR lock_expires_at IS NULL OR lock_expires_at <= $3)";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(session)
            .bind(now_ms())
            .bind(status)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1))
        .map_err(failed)
    }

    /// Names job `job_id` the project's task, unless it has one already;
    /// whether it did (two nodes may dispatch at once; one wins).
    pub async fn claim_task(
        &self,
        id: &str,
        job_id: &str,
        kind: TaskKind,
        scene_id: Option<&str>,
    ) -> Result<bool, ApiError> {
        let statement =
            "UPDATE shortsai_projects SET task_job_id = $2, task_kind = $3, task_scene_id = $4 \
             WHERE id = $1 AND task_job_id IS NULL";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(job_id)
            .bind(kind.as_str())
            .bind(scene_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1))
        .map_err(failed)
    }

    /// Clears the project's task if it is still job `job_id`; whether it
    /// did (the node that does applies the task's result).
    pub async fn release_task(&self, id: &str, job_id: &str) -> Result<bool, ApiError> {
        let statement = "UPDATE shortsai_projects SET task_job_id = NULL, task_kind = NULL, \
             task_scene_id = NULL WHERE id = $1 AND task_job_id = $2";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(job_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1))
        .map_err(failed)
    }

    /// Tasks whose job ended (or is gone).
    pub async fn ended_tasks(&self) -> Result<Vec<Task>, ApiError> {
        let statement = "SELECT p.id AS project_id, p.task_job_id AS job_id, p.task_kind AS kind, \
                 p.task_scene_id AS scene_id \
             FROM shortsai_projects p LEFT JOIN jobs j ON j.id = p.task_job_id \
             WHERE p.task_job_id IS NOT NULL \
               AND (j.id IS NULL OR j.state IN ('succeeded', 'failed', 'cancelled'))";
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .fetch_all(pool)
            .await)
        .map_err(failed)
    }

    /// Projects with no task and something to do: generating, or with
    /// music or a scene's asset queued.
    pub async fn awaiting_dispatch(&self) -> Result<Vec<String>, ApiError> {
        let statement = "SELECT p.id FROM shortsai_projects p \
             WHERE p.task_job_id IS NULL AND (p.status = 'generating' \
                OR p.bg_music_status = 'queued' \
                OR EXISTS (SELECT 1 FROM shortsai_scenes s WHERE s.project_id = p.id \
                           AND s.deleted_at IS NULL \
                           AND (s.image_status = 'queued' OR s.audio_status = 'queued' \
                                OR s.video_status = 'queued')))";
        let ids: Vec<(String,)> = on_database!(self.0, |pool| sqlx::query_as(statement)
            .fetch_all(pool)
            .await)
        .map_err(failed)?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}
