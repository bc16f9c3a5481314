//! Uploads, the presigned uploads that become them, and what a user's
//! files and results take up.

use sqlx::Pool;

use crate::model::*;
use crate::now_ms;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::sql::{sql, Assembled, Backend, On, StoredRow};

pub(crate) async fn insert_upload<'e, DB: Backend>(
    on: impl Into<On<'e, DB>>,
    upload: &UploadRecord,
) -> StoreResult<()> {
    sql(
        "INSERT INTO uploads (id, owner_id, filename, content_type, size, sha256, blob_key, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&upload.id)
    .bind(&upload.owner_id)
    .bind(&upload.filename)
    .bind(&upload.content_type)
    .bind(upload.size)
    .bind(&upload.sha256)
    .bind(&upload.blob_key)
    .bind(upload.created_at)
    .execute(on)
    .await?;
    Ok(())
}

pub(crate) async fn get_upload<'e, DB: Backend>(
    on: impl Into<On<'e, DB>>,
    id: &str,
) -> StoreResult<Option<UploadRecord>> {
    let row = sql("SELECT * FROM uploads WHERE id = $1")
        .bind(id)
        .fetch_optional(on)
        .await?;
    row.as_ref().map(upload_from_row).transpose()
}

/// The uploads of these ids that exist, in one statement.
pub(crate) async fn get_uploads<DB: Backend>(
    pool: &Pool<DB>,
    ids: &[String],
) -> StoreResult<Vec<UploadRecord>> {
    let Some((first, rest)) = ids.split_first() else {
        return Ok(Vec::new());
    };
    let mut query = Assembled::new("SELECT * FROM uploads WHERE id IN (").push_bind(first);
    for id in rest {
        query = query.push(", ").push_bind(id);
    }
    let rows = query.push(")").fetch_all(pool).await?;
    rows.iter().map(upload_from_row).collect()
}

/// A condition on a row of `uploads`: a job that has not ended reads it,
/// as its input or as an upload its parameters name.
macro_rules! used_by_a_live_job {
    () => {
        "(EXISTS (SELECT 1 FROM jobs WHERE jobs.upload_id = uploads.id \
                  AND jobs.state IN ('queued', 'running', 'retrying')) \
          OR EXISTS (SELECT 1 FROM job_uploads r JOIN jobs ON jobs.id = r.job_id \
                     WHERE r.upload_id = uploads.id \
                     AND jobs.state IN ('queued', 'running', 'retrying')))"
    };
}

/// Deletes the record unless a job that has not ended uses it; ended jobs
/// that used it stop naming it.
pub(crate) async fn delete_upload<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<UploadRemoval> {
    let mut tx = pool.begin().await?;
    let Some(upload) = get_upload(&mut tx, id).await? else {
        return Ok(UploadRemoval::Missing);
    };
    let live = sql(concat!(
        "SELECT COUNT(*) AS n FROM uploads WHERE id = $1 AND ",
        used_by_a_live_job!()
    ))
    .bind(id)
    .fetch_one(&mut tx)
    .await?;
    if live.int("n")? > 0 {
        return Ok(UploadRemoval::InUse);
    }
    sql("UPDATE jobs SET upload_id = NULL WHERE upload_id = $1")
        .bind(id)
        .execute(&mut tx)
        .await?;
    sql("DELETE FROM job_uploads WHERE upload_id = $1")
        .bind(id)
        .execute(&mut tx)
        .await?;
    sql("DELETE FROM uploads WHERE id = $1")
        .bind(id)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(UploadRemoval::Removed(upload))
}

/// Bytes the user keeps: their uploads and their jobs' artifacts.
pub(crate) async fn storage_used<DB: Backend>(pool: &Pool<DB>, owner_id: &str) -> StoreResult<i64> {
    let row = sql(
        "SELECT CAST((SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner_id = $1) \
                   + (SELECT COALESCE(SUM(a.size), 0) FROM artifacts a \
                      JOIN jobs j ON j.id = a.job_id WHERE j.owner_id = $1) AS BIGINT) AS used",
    )
    .bind(owner_id)
    .fetch_one(pool)
    .await?;
    row.int("used")
}

/// Uploads made before `before` that no live job uses, oldest first.
pub(crate) async fn unused_uploads_before<DB: Backend>(
    pool: &Pool<DB>,
    before: i64,
    limit: i64,
) -> StoreResult<Vec<UploadRecord>> {
    let rows = sql(concat!(
        "SELECT * FROM uploads WHERE created_at < $1 AND NOT ",
        used_by_a_live_job!(),
        " ORDER BY created_at LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(upload_from_row).collect()
}

pub(crate) async fn insert_presigned_upload<DB: Backend>(
    pool: &Pool<DB>,
    upload: &PresignedUpload,
) -> StoreResult<()> {
    sql(
        "INSERT INTO presigned_uploads (id, owner_id, filename, content_type, declared_size, \
         size_is_limit, blob_key, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&upload.id)
    .bind(&upload.owner_id)
    .bind(&upload.filename)
    .bind(&upload.content_type)
    .bind(upload.declared_size)
    .bind(i64::from(upload.size_is_limit))
    .bind(&upload.blob_key)
    .bind(upload.expires_at)
    .bind(upload.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn get_presigned_upload<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<PresignedUpload>> {
    let row = sql("SELECT * FROM presigned_uploads WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(presigned_from_row).transpose()
}

/// Names the object the last PUT wrote; false once the upload is completed.
pub(crate) async fn record_presigned_content<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
    key: &str,
    size: i64,
    sha256: &str,
) -> StoreResult<bool> {
    let changed = sql(
        "UPDATE presigned_uploads SET received_key = $1, received_size = $2, \
                       received_sha256 = $3 WHERE id = $4 AND completed_at IS NULL",
    )
    .bind(key)
    .bind(size)
    .bind(sha256)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(changed > 0)
}

/// Marks the presigned upload completed and inserts the upload it became,
/// together; false when it was completed already.
pub(crate) async fn complete_presigned_upload<DB: Backend>(
    pool: &Pool<DB>,
    upload: &UploadRecord,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let marked = sql("UPDATE presigned_uploads SET completed_at = $1 \
                      WHERE id = $2 AND completed_at IS NULL")
    .bind(now_ms())
    .bind(&upload.id)
    .execute(&mut tx)
    .await?;
    if marked == 0 {
        return Ok(false);
    }
    insert_upload(&mut tx, upload).await?;
    tx.commit().await?;
    Ok(true)
}

pub(crate) async fn expired_presigned_uploads<DB: Backend>(
    pool: &Pool<DB>,
    before_s: i64,
    limit: i64,
) -> StoreResult<Vec<PresignedUpload>> {
    let rows = sql("SELECT * FROM presigned_uploads WHERE expires_at < $1 \
                    ORDER BY expires_at LIMIT $2")
    .bind(before_s)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(presigned_from_row).collect()
}

pub(crate) async fn delete_presigned_upload<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<()> {
    sql("DELETE FROM presigned_uploads WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
