//! The worker processes that announce themselves, for operators.

use serde_json::Value;
use sqlx::Pool;

use crate::model::*;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::sql::{sql, Backend};

/// Records (or refreshes) a worker process's announcement.
pub(crate) async fn announce_worker<DB: Backend>(
    pool: &Pool<DB>,
    worker: &WorkerRecord,
) -> StoreResult<()> {
    sql(
        "INSERT INTO workers (id, host, pid, pipelines, concurrency, version, started_at, \
         last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, \
         pipelines = excluded.pipelines, concurrency = excluded.concurrency",
    )
    .bind(&worker.id)
    .bind(&worker.host)
    .bind(worker.pid)
    .bind(Value::from(worker.pipelines.clone()).to_string())
    .bind(worker.concurrency)
    .bind(&worker.version)
    .bind(worker.started_at)
    .bind(worker.last_seen_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn forget_worker<DB: Backend>(pool: &Pool<DB>, id: &str) -> StoreResult<()> {
    sql("DELETE FROM workers WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Worker processes seen at or after `since`.
pub(crate) async fn list_workers<DB: Backend>(
    pool: &Pool<DB>,
    since: i64,
) -> StoreResult<Vec<WorkerRecord>> {
    let rows = sql("SELECT * FROM workers WHERE last_seen_at >= $1 ORDER BY id")
        .bind(since)
        .fetch_all(pool)
        .await?;
    rows.iter().map(worker_from_row).collect()
}
