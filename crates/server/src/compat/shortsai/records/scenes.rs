//! The scenes table: what each scene shows and says, and the status, file
//! and attempts of each of its assets (image, audio, video). A deleted
//! scene is kept, marked (`deleted_at`), as the original did.

use kinoflow_engine::store::{now_ms, Store};
use sqlx::FromRow;

use super::projects::TaskKind;
use crate::compat::tables::{failed, on_database};
use crate::error::ApiError;

/// A scene's columns, in the order `SCENE_COLUMNS` reads them.
#[derive(Debug, Clone, FromRow)]
pub struct SceneRow {
    pub id: String,
    pub project_id: String,
    pub scene_number: i64,
    pub visual_description: String,
    pub narration: String,
    pub duration_seconds: f64,
    pub image_status: String,
    pub audio_status: String,
    pub video_status: String,
    pub image_upload_id: Option<String>,
    pub audio_upload_id: Option<String>,
    pub video_upload_id: Option<String>,
    pub media_type: String,
    /// JSON `[{word, start, end}]`, seconds.
    pub word_timings: Option<String>,
    pub error_message: Option<String>,
    pub image_attempts: i64,
    pub audio_attempts: i64,
    pub video_attempts: i64,
    pub version: i64,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

impl SceneRow {
    /// The status of the asset `kind` makes (music is the project's).
    pub fn status(&self, kind: TaskKind) -> &str {
        match kind {
            TaskKind::Image => &self.image_status,
            TaskKind::Audio => &self.audio_status,
            TaskKind::Video | TaskKind::Music => &self.video_status,
        }
    }

    /// The upload holding the asset `kind` makes.
    pub fn upload(&self, kind: TaskKind) -> Option<&str> {
        match kind {
            TaskKind::Image => self.image_upload_id.as_deref(),
            TaskKind::Audio => self.audio_upload_id.as_deref(),
            TaskKind::Video | TaskKind::Music => self.video_upload_id.as_deref(),
        }
    }
}

const SCENE_COLUMNS: &str = "id, project_id, scene_number, visual_description, narration, \
     duration_seconds, image_status, audio_status, video_status, image_upload_id, \
     audio_upload_id, video_upload_id, media_type, word_timings, error_message, image_attempts, \
     audio_attempts, video_attempts, version, created_at, deleted_at";

/// What a scene's owner may set. An asset's status is written only when
/// the owner sets it (`Some`): the workflow changes them meanwhile.
#[derive(Debug, Clone)]
pub struct SceneEdit {
    pub scene_number: i64,
    pub visual_description: String,
    pub narration: String,
    pub duration_seconds: f64,
    pub media_type: String,
    pub image_status: Option<String>,
    pub audio_status: Option<String>,
    pub video_status: Option<String>,
    pub error_message: Option<String>,
}

impl SceneEdit {
    pub fn of(row: &SceneRow) -> Self {
        Self {
            scene_number: row.scene_number,
            visual_description: row.visual_description.clone(),
            narration: row.narration.clone(),
            duration_seconds: row.duration_seconds,
            media_type: row.media_type.clone(),
            image_status: None,
            audio_status: None,
            video_status: None,
            error_message: row.error_message.clone(),
        }
    }
}

/// A new scene of a project.
pub struct NewScene {
    pub id: String,
    pub project_id: String,
    pub fields: SceneEdit,
}

/// The table over one store.
pub struct Scenes<'a>(pub &'a dyn Store);

/// The columns of the asset `kind` makes (music has none here).
fn columns(kind: TaskKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        TaskKind::Image => ("image_status", "image_upload_id", "image_attempts"),
        TaskKind::Audio => ("audio_status", "audio_upload_id", "audio_attempts"),
        TaskKind::Video | TaskKind::Music => ("video_status", "video_upload_id", "video_attempts"),
    }
}

impl Scenes<'_> {
    pub async fn create(&self, new: &NewScene) -> Result<SceneRow, ApiError> {
        let statement = format!(
            "INSERT INTO shortsai_scenes (id, project_id, scene_number, visual_description, \
             narration, duration_seconds, image_status, audio_status, video_status, media_type, \
             error_message, image_attempts, audio_attempts, video_attempts, version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, 'draft'), COALESCE($8, 'draft'), \
             COALESCE($9, 'draft'), $10, $11, 0, 0, 0, 1, $12) \
             RETURNING {SCENE_COLUMNS}"
        );
        let f = &new.fields;
        on_database!(self.0, |pool| sqlx::query_as(&statement)
            .bind(&new.id)
            .bind(&new.project_id)
            .bind(f.scene_number)
            .bind(&f.visual_description)
            .bind(&f.narration)
            .bind(f.duration_seconds)
            .bind(&f.image_status)
            .bind(&f.audio_status)
            .bind(&f.video_status)
            .bind(&f.media_type)
            .bind(&f.error_message)
            .bind(now_ms())
            .fetch_one(pool)
            .await)
        .map_err(failed)
    }

    /// Scene `id`, deleted or not.
    pub async fn get(&self, id: &str) -> Result<Option<SceneRow>, ApiError> {
        let statement = format!("SELECT {SCENE_COLUMNS} FROM shortsai_scenes WHERE id = $1");
        on_database!(self.0, |pool| sqlx::query_as(&statement)
            .bind(id)
            .fetch_optional(pool)
            .await)
        .map_err(failed)
    }

    /// A project's scenes that are not deleted, in order.
    pub async fn of_project(&self, project_id: &str) -> Result<Vec<SceneRow>, ApiError> {
        let statement = format!(
            "SELECT {SCENE_COLUMNS} FROM shortsai_scenes \
             WHERE project_id = $1 AND deleted_at IS NULL ORDER BY scene_number, created_at, id"
        );
        on_database!(self.0, |pool| sqlx::query_as(&statement)
            .bind(project_id)
            .fetch_all(pool)
            .await)
        .map_err(failed)
    }

    /// Every upload a project's scenes hold, deleted scenes' too.
    pub async fn uploads_of_project(&self, project_id: &str) -> Result<Vec<String>, ApiError> {
        let statement = "SELECT image_upload_id, audio_upload_id, video_upload_id \
             FROM shortsai_scenes WHERE project_id = $1";
        let rows: Vec<(Option<String>, Option<String>, Option<String>)> =
            on_database!(self.0, |pool| sqlx::query_as(statement)
                .bind(project_id)
                .fetch_all(pool)
                .await)
            .map_err(failed)?;
        Ok(rows
            .into_iter()
            .flat_map(|(a, b, c)| [a, b, c])
            .flatten()
            .collect())
    }

    /// Writes the fields an owner may set, and counts a version.
    pub async fn edit(&self, id: &str, f: &SceneEdit) -> Result<(), ApiError> {
        let statement = "UPDATE shortsai_scenes SET scene_number = $2, visual_description = $3, \
             narration = $4, duration_seconds = $5, media_type = $6, \
             image_status = COALESCE($7, image_status), audio_status = COALESCE($8, audio_status), \
             video_status = COALESCE($9, video_status), error_message = $10, version = version + 1 \
             WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(f.scene_number)
            .bind(&f.visual_description)
            .bind(&f.narration)
            .bind(f.duration_seconds)
            .bind(&f.media_type)
            .bind(&f.image_status)
            .bind(&f.audio_status)
            .bind(&f.video_status)
            .bind(&f.error_message)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Marks `scene` deleted and moves the project's later scenes up one.
    pub async fn soft_delete(&self, scene: &SceneRow) -> Result<(), ApiError> {
        let statement = "UPDATE shortsai_scenes SET deleted_at = $2 WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(&scene.id)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)?;
        let statement = "UPDATE shortsai_scenes SET scene_number = scene_number - 1 \
             WHERE project_id = $1 AND deleted_at IS NULL AND scene_number > $2";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(&scene.project_id)
            .bind(scene.scene_number)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Sets the status of one scene's asset `kind`; `reset` also sets its
    /// attempts to 0 and clears the error.
    pub async fn set_status(
        &self,
        id: &str,
        kind: TaskKind,
        status: &str,
        reset: bool,
    ) -> Result<(), ApiError> {
        let (status_column, _, attempts) = columns(kind);
        let statement = if reset {
            format!(
                "UPDATE shortsai_scenes SET {status_column} = $2, {attempts} = 0, \
                 error_message = NULL WHERE id = $1"
            )
        } else {
            format!("UPDATE shortsai_scenes SET {status_column} = $2 WHERE id = $1")
        };
        on_database!(self.0, |pool| sqlx::query(&statement)
            .bind(id)
            .bind(status)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Sets to `to` the asset `kind` of every scene of the project whose
    /// status is one of `from` (any, when empty); `reset` also sets the
    /// attempts to 0 and clears the error.
    pub async fn set_statuses(
        &self,
        project_id: &str,
        kind: TaskKind,
        from: &[&str],
        to: &str,
        reset: bool,
    ) -> Result<(), ApiError> {
        let (status_column, _, attempts) = columns(kind);
        let reset = if reset {
            format!(", {attempts} = 0, error_message = NULL")
        } else {
            String::new()
        };
        let only = if from.is_empty() {
            String::new()
        } else {
            // The statuses are this module's constants, never a client's words.
            let listed: Vec<String> = from.iter().map(|s| format!("'{s}'")).collect();
            format!(" AND {status_column} IN ({})", listed.join(", "))
        };
        let statement = format!(
            "UPDATE shortsai_scenes SET {status_column} = $2{reset} \
             WHERE project_id = $1 AND deleted_at IS NULL{only}"
        );
        on_database!(self.0, |pool| sqlx::query(&statement)
            .bind(project_id)
            .bind(to)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Every unfinished asset of the project's scenes fails with `error`.
    pub async fn fail_unfinished(&self, project_id: &str, error: &str) -> Result<(), ApiError> {
        let unfinished = "('pending', 'queued', 'processing', 'loading')";
        let statement = format!(
            "UPDATE shortsai_scenes SET \
                 image_status = CASE WHEN image_status IN {unfinished} THEN 'failed' ELSE image_status END, \
                 audio_status = CASE WHEN audio_status IN {unfinished} THEN 'failed' ELSE audio_status END, \
                 video_status = CASE WHEN video_status IN {unfinished} THEN 'failed' ELSE video_status END, \
                 error_message = $2 \
             WHERE project_id = $1 AND deleted_at IS NULL AND (image_status IN {unfinished} \
                 OR audio_status IN {unfinished} OR video_status IN {unfinished})"
        );
        on_database!(self.0, |pool| sqlx::query(&statement)
            .bind(project_id)
            .bind(error)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// The dispatcher's task for asset `kind` of scene `id` runs: it is
    /// `processing`, unless its result was taken already.
    pub async fn mark_processing(&self, id: &str, kind: TaskKind) -> Result<(), ApiError> {
        let (status_column, _, _) = columns(kind);
        let statement = format!(
            "UPDATE shortsai_scenes SET {status_column} = 'processing' \
             WHERE id = $1 AND {status_column} IN ('pending', 'queued')"
        );
        on_database!(self.0, |pool| sqlx::query(&statement)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// The asset `kind` of scene `id` is made: its upload, its attempts.
    pub async fn complete(
        &self,
        id: &str,
        kind: TaskKind,
        upload_id: &str,
        attempts: i64,
    ) -> Result<(), ApiError> {
        let (status_column, upload, attempts_column) = columns(kind);
        let media = if kind == TaskKind::Video {
            ", media_type = 'video'"
        } else {
            ""
        };
        let statement = format!(
            "UPDATE shortsai_scenes SET {status_column} = 'completed', {upload} = $2, \
             {attempts_column} = $3, error_message = NULL{media} WHERE id = $1"
        );
        on_database!(self.0, |pool| sqlx::query(&statement)
            .bind(id)
            .bind(upload_id)
            .bind(attempts)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// The narration's word times and length, once it is spoken.
    pub async fn set_timing(
        &self,
        id: &str,
        word_timings: &str,
        duration_seconds: f64,
    ) -> Result<(), ApiError> {
        let statement = "UPDATE shortsai_scenes SET word_timings = $2, duration_seconds = $3 \
                         WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(word_timings)
            .bind(duration_seconds)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// The asset `kind` of scene `id` failed for good.
    pub async fn fail(
        &self,
        id: &str,
        kind: TaskKind,
        error: &str,
        attempts: i64,
    ) -> Result<(), ApiError> {
        let (status_column, _, attempts_column) = columns(kind);
        let statement = format!(
            "UPDATE shortsai_scenes SET {status_column} = 'failed', {attempts_column} = $3, \
             error_message = $2 WHERE id = $1"
        );
        on_database!(self.0, |pool| sqlx::query(&statement)
            .bind(id)
            .bind(error)
            .bind(attempts)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// The user skips the scene: its image and audio count as made.
    pub async fn skip(&self, id: &str) -> Result<(), ApiError> {
        let statement = "UPDATE shortsai_scenes SET image_status = 'completed', \
             audio_status = 'completed', error_message = 'Skipped by user' WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }
}
