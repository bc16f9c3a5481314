//! The files jobs produced, recorded under the lease of the worker that
//! made them.

use sqlx::Pool;

use crate::model::*;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::sql::{sql, Backend};

/// Records (or replaces) an artifact; false when the lease was lost.
pub(crate) async fn put_artifact<DB: Backend>(
    pool: &Pool<DB>,
    artifact: &ArtifactRecord,
    lease: &LeaseToken,
) -> StoreResult<bool> {
    let changed = sql(
        "INSERT INTO artifacts (job_id, name, blob_key, content_type, size, sha256, \
                       created_at) SELECT $1, $2, $3, $4, $5, $6, $7 \
                       WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND lease_token = $8 \
                                     AND state = 'running') \
                       ON CONFLICT (job_id, name) DO UPDATE SET blob_key = excluded.blob_key, \
                       content_type = excluded.content_type, size = excluded.size, \
                       sha256 = excluded.sha256, created_at = excluded.created_at",
    )
    .bind(&artifact.job_id)
    .bind(&artifact.name)
    .bind(&artifact.blob_key)
    .bind(&artifact.content_type)
    .bind(artifact.size)
    .bind(&artifact.sha256)
    .bind(artifact.created_at)
    .bind(&lease.0)
    .execute(pool)
    .await?;
    Ok(changed > 0)
}

pub(crate) async fn list_artifacts<DB: Backend>(
    pool: &Pool<DB>,
    job_id: &str,
) -> StoreResult<Vec<ArtifactRecord>> {
    let rows = sql("SELECT * FROM artifacts WHERE job_id = $1 ORDER BY name")
        .bind(job_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(artifact_from_row).collect()
}

pub(crate) async fn get_artifact<DB: Backend>(
    pool: &Pool<DB>,
    job_id: &str,
    name: &str,
) -> StoreResult<Option<ArtifactRecord>> {
    let row = sql("SELECT * FROM artifacts WHERE job_id = $1 AND name = $2")
        .bind(job_id)
        .bind(name)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(artifact_from_row).transpose()
}

/// Removes the job's artifact records and returns them, so their blobs can go too.
pub(crate) async fn take_artifacts<DB: Backend>(
    pool: &Pool<DB>,
    job_id: &str,
) -> StoreResult<Vec<ArtifactRecord>> {
    let rows = sql("DELETE FROM artifacts WHERE job_id = $1 RETURNING *")
        .bind(job_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(artifact_from_row).collect()
}
