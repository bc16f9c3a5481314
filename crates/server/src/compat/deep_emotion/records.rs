//! What DeepEmotion knows that kinoflow does not: each account's user name,
//! and each video's title and stream name. They live in tables of their own
//! beside the store's (a store [`Extension`]); a video's state, progress and
//! results stay the `emotion` job's.

use kinoflow_engine::store::{now_ms, Extension, ExtensionMigration, Store};
use sqlx::FromRow;

use crate::compat::tables::{failed, is_duplicate, on_database};
use crate::error::ApiError;

/// The first schema, in SQL that differs between the databases only in the
/// names of the integer and floating-point types.
macro_rules! schema {
    ($integer:literal, $real:literal) => {
        concat!(
            "CREATE TABLE deepemotion_users (
                 user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                 username TEXT NOT NULL,
                 username_key TEXT NOT NULL UNIQUE,
                 updated_at ",
            $integer,
            " NOT NULL
             );
             CREATE TABLE deepemotion_videos (
                 upload_id TEXT PRIMARY KEY,
                 owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                 stream_name TEXT NOT NULL UNIQUE,
                 job_id TEXT UNIQUE REFERENCES jobs(id) ON DELETE CASCADE,
                 title TEXT,
                 frame_count ",
            $integer,
            ",
                 duration_s ",
            $real,
            ",
                 created_at ",
            $integer,
            " NOT NULL,
                 ended_at ",
            $integer,
            "
             );
             CREATE INDEX deepemotion_videos_owner ON deepemotion_videos (owner_id, created_at);
             CREATE INDEX deepemotion_videos_running ON deepemotion_videos (ended_at);"
        )
    };
}

/// The tables, in each database's SQL. A video's row goes with its job and
/// its owner (a deleted job's stream name stops working with it).
pub const EXTENSION: Extension = Extension {
    name: "deepemotion",
    sqlite: &[ExtensionMigration {
        version: 1,
        description: "user names and videos",
        sql: schema!("INTEGER", "REAL"),
    }],
    postgres: &[ExtensionMigration {
        version: 1,
        description: "user names and videos",
        sql: schema!("BIGINT", "DOUBLE PRECISION"),
    }],
};

/// How long a video's progress is still relayed after its job ended, so
/// that every API node sees the end (each relays from the store).
const RELAYED_AFTER_END_MS: i64 = 60_000;

/// A video's columns, in the order `select_videos!` reads them.
#[derive(Debug, Clone, FromRow)]
pub struct VideoRow {
    pub upload_id: String,
    pub owner_id: String,
    pub stream_name: String,
    /// None until the upload is finalised and its job submitted.
    pub job_id: Option<String>,
    pub title: Option<String>,
    pub frame_count: Option<i64>,
    pub duration_s: Option<f64>,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

/// A statement that reads whole videos, `$tail` its conditions.
macro_rules! select_videos {
    ($tail:literal) => {
        concat!(
            "SELECT upload_id, owner_id, stream_name, job_id, title, frame_count, \
             duration_s, created_at, ended_at FROM deepemotion_videos ",
            $tail
        )
    };
}

/// The tables over one store.
pub struct Records<'a>(pub &'a dyn Store);

impl Records<'_> {
    /// The user name of an account, if it has one.
    pub async fn username(&self, user_id: &str) -> Result<Option<String>, ApiError> {
        let statement = "SELECT username FROM deepemotion_users WHERE user_id = $1";
        on_database!(self.0, |pool| sqlx::query_scalar(statement)
            .bind(user_id)
            .fetch_optional(pool)
            .await)
        .map_err(failed)
    }

    /// Whether a user name is taken, in any case.
    pub async fn username_taken(&self, username: &str) -> Result<bool, ApiError> {
        let statement = "SELECT user_id FROM deepemotion_users WHERE username_key = $1";
        let found: Option<String> = on_database!(self.0, |pool| sqlx::query_scalar(statement)
            .bind(username_key(username))
            .fetch_optional(pool)
            .await)
        .map_err(failed)?;
        Ok(found.is_some())
    }

    /// Gives an account its user name; false when another account took it
    /// meanwhile.
    pub async fn set_username(&self, user_id: &str, username: &str) -> Result<bool, ApiError> {
        let statement =
            "INSERT INTO deepemotion_users (user_id, username, username_key, updated_at) \
                         VALUES ($1, $2, $3, $4)";
        let inserted = on_database!(self.0, |pool| sqlx::query(statement)
            .bind(user_id)
            .bind(username)
            .bind(username_key(username))
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop));
        match inserted {
            Ok(()) => Ok(true),
            Err(e) if is_duplicate(&e) => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }

    /// Records a video whose file is `upload_id`, before its job exists.
    pub async fn insert_video(
        &self,
        upload_id: &str,
        owner_id: &str,
        stream_name: &str,
    ) -> Result<(), ApiError> {
        let statement =
            "INSERT INTO deepemotion_videos (upload_id, owner_id, stream_name, created_at) \
                         VALUES ($1, $2, $3, $4)";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(upload_id)
            .bind(owner_id)
            .bind(stream_name)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Names the job that analyses the video of `upload_id`, and its title.
    pub async fn start_video(
        &self,
        upload_id: &str,
        job_id: &str,
        title: &str,
    ) -> Result<(), ApiError> {
        let statement =
            "UPDATE deepemotion_videos SET job_id = $2, title = $3 WHERE upload_id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(upload_id)
            .bind(job_id)
            .bind(title)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Forgets a video that never started (its upload was refused).
    pub async fn forget_unstarted(&self, upload_id: &str) -> Result<(), ApiError> {
        let statement = "DELETE FROM deepemotion_videos WHERE upload_id = $1 AND job_id IS NULL";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(upload_id)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Forgets the owner's videos that were announced but never finalised
    /// before `before` (ms): their upload URLs have expired.
    pub async fn forget_abandoned(&self, owner_id: &str, before: i64) -> Result<(), ApiError> {
        let statement = "DELETE FROM deepemotion_videos \
                         WHERE owner_id = $1 AND job_id IS NULL AND created_at < $2";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(owner_id)
            .bind(before)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// The video analysed by job `job_id`.
    pub async fn video_of_job(&self, job_id: &str) -> Result<Option<VideoRow>, ApiError> {
        self.one_video(select_videos!("WHERE job_id = $1"), job_id)
            .await
    }

    /// The video whose stream name is `stream_name`.
    pub async fn video_by_stream_name(
        &self,
        stream_name: &str,
    ) -> Result<Option<VideoRow>, ApiError> {
        self.one_video(select_videos!("WHERE stream_name = $1"), stream_name)
            .await
    }

    async fn one_video(
        &self,
        statement: &'static str,
        value: &str,
    ) -> Result<Option<VideoRow>, ApiError> {
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .bind(value)
            .fetch_optional(pool)
            .await)
        .map_err(failed)
    }

    /// The owner's started videos, newest first, at most `limit`.
    pub async fn videos_of(&self, owner_id: &str, limit: i64) -> Result<Vec<VideoRow>, ApiError> {
        let statement = select_videos!(
            "WHERE owner_id = $1 AND job_id IS NOT NULL ORDER BY created_at DESC LIMIT $2"
        );
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .bind(owner_id)
            .bind(limit)
            .fetch_all(pool)
            .await)
        .map_err(failed)
    }

    /// Started videos whose progress is still relayed: running, or ended
    /// only a moment ago.
    pub async fn relayed_videos(&self) -> Result<Vec<VideoRow>, ApiError> {
        let statement =
            select_videos!("WHERE job_id IS NOT NULL AND (ended_at IS NULL OR ended_at > $1)");
        on_database!(self.0, |pool| sqlx::query_as(statement)
            .bind(now_ms() - RELAYED_AFTER_END_MS)
            .fetch_all(pool)
            .await)
        .map_err(failed)
    }

    /// Marks a video's job ended, once.
    pub async fn mark_ended(&self, upload_id: &str) -> Result<(), ApiError> {
        let statement = "UPDATE deepemotion_videos SET ended_at = $2 \
                         WHERE upload_id = $1 AND ended_at IS NULL";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(upload_id)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Keeps what a finished analysis found: the frames with a face and the
    /// video's length.
    pub async fn set_results(
        &self,
        upload_id: &str,
        frame_count: i64,
        duration_s: f64,
    ) -> Result<(), ApiError> {
        let statement =
            "UPDATE deepemotion_videos SET frame_count = $2, duration_s = $3 WHERE upload_id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(upload_id)
            .bind(frame_count)
            .bind(duration_s)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Changes a video's title.
    pub async fn set_title(&self, upload_id: &str, title: &str) -> Result<(), ApiError> {
        let statement = "UPDATE deepemotion_videos SET title = $2 WHERE upload_id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(upload_id)
            .bind(title)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    /// Gives a video a new stream name; the old one stops working.
    pub async fn set_stream_name(
        &self,
        upload_id: &str,
        stream_name: &str,
    ) -> Result<(), ApiError> {
        let statement = "UPDATE deepemotion_videos SET stream_name = $2 WHERE upload_id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(upload_id)
            .bind(stream_name)
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }
}

/// User names are unique whatever their case.
fn username_key(username: &str) -> String {
    username.to_lowercase()
}
