//! The renders table: each `POST /api/render`, its `render` job, and what
//! an external render worker reported of it through the webhook.

use kinoflow_engine::store::{now_ms, Store};
use sqlx::FromRow;

use crate::compat::tables::{failed, on_database};
use crate::error::ApiError;

#[derive(Debug, Clone, FromRow)]
pub struct RenderRow {
    pub id: String,
    pub owner_id: String,
    /// Gone when the job was deleted.
    pub job_id: Option<String>,
    pub reported_status: Option<String>,
    pub reported_progress: Option<f64>,
    pub reported_url: Option<String>,
    pub reported_error: Option<String>,
}

const RENDER_COLUMNS: &str = "id, owner_id, job_id, reported_status, \
     reported_progress, reported_url, reported_error";

/// What a worker says of a render; what it leaves out is kept.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub status: Option<String>,
    pub progress: Option<f64>,
    pub url: Option<String>,
    pub error: Option<String>,
}

pub struct Renders<'a>(pub &'a dyn Store);

impl Renders<'_> {
    pub async fn create(
        &self,
        id: &str,
        owner_id: &str,
        project_id: &str,
        job_id: &str,
    ) -> Result<(), ApiError> {
        let statement = "INSERT INTO shortsai_renders (id, owner_id, project_id, job_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(owner_id)
            .bind(project_id)
            .bind(job_id)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }

    pub async fn get(&self, id: &str) -> Result<Option<RenderRow>, ApiError> {
        let statement = format!("SELECT {RENDER_COLUMNS} FROM shortsai_renders WHERE id = $1");
        on_database!(self.0, |pool| sqlx::query_as(&statement)
            .bind(id)
            .fetch_optional(pool)
            .await)
        .map_err(failed)
    }

    /// Merges a worker's report into what was reported before.
    pub async fn report(&self, id: &str, report: &Report) -> Result<(), ApiError> {
        let statement = "UPDATE shortsai_renders SET \
                 reported_status = COALESCE($2, reported_status), \
                 reported_progress = COALESCE($3, reported_progress), \
                 reported_url = COALESCE($4, reported_url), \
                 reported_error = COALESCE($5, reported_error), updated_at = $6 \
             WHERE id = $1";
        on_database!(self.0, |pool| sqlx::query(statement)
            .bind(id)
            .bind(&report.status)
            .bind(report.progress)
            .bind(&report.url)
            .bind(&report.error)
            .bind(now_ms())
            .execute(pool)
            .await
            .map(drop))
        .map_err(failed)
    }
}
