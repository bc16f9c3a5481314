//! Jobs as submitted and looked up: queueing (with idempotency keys),
//! listing, counting, deleting, and the events that record their history.
//! What happens to a job once queued is in `leases`.

use serde_json::{json, Value};
use sqlx::{Pool, Transaction};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::error::StoreError;
use crate::model::*;
use crate::now_ms;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::sql::{sql, Assembled, Backend, StoredRow};

/// Appends a row to a job's history.
pub(crate) async fn insert_event<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job_id: &str,
    kind: &str,
    data: &Value,
) -> StoreResult<()> {
    sql("INSERT INTO job_events (job_id, kind, data, created_at) VALUES ($1, $2, $3, $4)")
        .bind(job_id)
        .bind(kind)
        .bind(data.to_string())
        .bind(now_ms())
        .execute(tx)
        .await?;
    Ok(())
}

/// Appends many rows to jobs' histories in one statement, in order.
pub(crate) async fn insert_events<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    events: Vec<Value>,
) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    sql(DB::INSERT_EVENTS)
        .bind(Value::from(events).to_string())
        .bind(now_ms())
        .execute(tx)
        .await?;
    Ok(())
}

/// A row of [`insert_events`].
pub(crate) fn event_of(job_id: &str, kind: &str, data: &Value) -> Value {
    json!({"job_id": job_id, "kind": kind, "data": data.to_string()})
}

/// Records the job's state as it is now in its history.
pub(crate) async fn insert_state_event<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job: &JobRecord,
) -> StoreResult<()> {
    insert_event(tx, &job.id, "state", &state_event(job)).await
}

/// Records progress (and the stage reached) in a job's history.
pub(crate) async fn insert_progress_event<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job_id: &str,
    progress: f64,
    stage: Option<&str>,
) -> StoreResult<()> {
    let data = json!({ "progress": progress, "stage": stage });
    insert_event(tx, job_id, "progress", &data).await
}

/// Wakes the idle workers of other processes when the transaction commits.
pub(crate) async fn announce_new_job<DB: Dialect>(tx: &mut Transaction<'_, DB>) -> StoreResult<()> {
    if let Some(announce) = DB::ANNOUNCE_NEW_JOB {
        sql(announce).execute(tx).await?;
    }
    Ok(())
}

/// Inserts a queued job and its first event; `None` when the owner already
/// used the job's idempotency key.
async fn insert_queued_job<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job: &NewJob,
) -> StoreResult<Option<JobRecord>> {
    let now = now_ms();
    let inserted = sql(
        "INSERT INTO jobs (id, owner_id, pipeline, upload_id, params, state, max_attempts, \
         run_after, idempotency_key, callback_url, notify_email, created_at, updated_at, \
         request_fingerprint) \
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $7, $7, $11) \
         ON CONFLICT (owner_id, idempotency_key) DO NOTHING RETURNING *",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(&job.owner_id)
    .bind(&job.pipeline)
    .bind(&job.upload_id)
    .bind(job.params.to_string())
    .bind(job.max_attempts)
    .bind(now)
    .bind(&job.idempotency_key)
    .bind(&job.notices.callback_url)
    .bind(&job.notices.email)
    .bind(job.idempotency_key.as_ref().map(|_| job.fingerprint()))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = inserted else {
        return Ok(None);
    };
    let record = job_from_row(&row)?;
    insert_references(tx, &record.id, &job.references).await?;
    insert_state_event(tx, &record).await?;
    Ok(Some(record))
}

/// Queues groups of jobs submitted at about the same time in one
/// transaction, each group whole or not at all, so one group's refusal
/// leaves the others queued. Jobs without idempotency keys go in with one
/// statement for all of them; groups with a key each get a savepoint. A job
/// with an idempotency key the owner used before is not queued again: the
/// earlier job stands for it (`false` beside it), or the key's reuse for a
/// different submission is refused. Should the shared transaction fail,
/// each group is tried again in a transaction of its own.
pub(crate) async fn create_groups<DB: Dialect>(
    pool: &Pool<DB>,
    groups: Vec<Vec<NewJob>>,
) -> StoreResult<Vec<StoreResult<Vec<(JobRecord, bool)>>>> {
    if groups.len() == 1 {
        return Ok(vec![create_group(pool, &groups[0]).await]);
    }
    match create_together(pool, &groups).await {
        Ok(answers) => Ok(answers),
        Err(_) => {
            let mut answers = Vec::with_capacity(groups.len());
            for group in &groups {
                answers.push(create_group(pool, group).await);
            }
            Ok(answers)
        }
    }
}

/// One group in a transaction of its own.
async fn create_group<DB: Dialect>(
    pool: &Pool<DB>,
    group: &[NewJob],
) -> StoreResult<Vec<(JobRecord, bool)>> {
    let mut tx = pool.begin().await?;
    let records = if is_keyless(group) {
        insert_keyless(&mut tx, group).await?
    } else {
        queue_group(&mut tx, group).await?
    };
    if records.iter().any(|(_, new)| *new) {
        announce_new_job(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(records)
}

/// Every group in one transaction; an error of the transaction itself
/// (not a group's refusal) fails them all.
async fn create_together<DB: Dialect>(
    pool: &Pool<DB>,
    groups: &[Vec<NewJob>],
) -> StoreResult<Vec<StoreResult<Vec<(JobRecord, bool)>>>> {
    let mut tx = pool.begin().await?;
    let keyless: Vec<NewJob> = groups
        .iter()
        .filter(|group| is_keyless(group))
        .flatten()
        .cloned()
        .collect();
    let mut inserted = insert_keyless(&mut tx, &keyless).await?.into_iter();
    let mut answers = Vec::with_capacity(groups.len());
    for group in groups {
        if is_keyless(group) {
            answers.push(Ok(inserted.by_ref().take(group.len()).collect()));
            continue;
        }
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        match queue_group(&mut savepoint, group).await {
            Ok(records) => {
                savepoint.commit().await?;
                answers.push(Ok(records));
            }
            Err(e) => {
                savepoint.rollback().await?;
                answers.push(Err(e));
            }
        }
    }
    let queued = answers.iter().flatten().flatten().any(|(_, new)| *new);
    if queued {
        announce_new_job(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(answers)
}

/// Whether a group's jobs can go in with others' in one statement: none
/// has an idempotency key to look up.
fn is_keyless(group: &[NewJob]) -> bool {
    group.iter().all(|job| job.idempotency_key.is_none())
}

/// Notes the uploads a job's parameters name, so that they stay while it lives.
async fn insert_references<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job_id: &str,
    upload_ids: &[String],
) -> StoreResult<()> {
    for upload_id in upload_ids {
        sql(
            "INSERT INTO job_uploads (job_id, upload_id) VALUES ($1, $2) \
             ON CONFLICT (job_id, upload_id) DO NOTHING",
        )
        .bind(job_id)
        .bind(upload_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Queues jobs without idempotency keys with one statement for the jobs
/// and one for their first events; the records in the jobs' order.
async fn insert_keyless<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    jobs: &[NewJob],
) -> StoreResult<Vec<(JobRecord, bool)>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = jobs.iter().map(|_| Uuid::now_v7().to_string()).collect();
    let rows: Vec<Value> = jobs
        .iter()
        .zip(&ids)
        .map(|(job, id)| {
            json!({
                "id": id,
                "owner_id": job.owner_id,
                "pipeline": job.pipeline,
                "upload_id": job.upload_id,
                "params": job.params.to_string(),
                "max_attempts": job.max_attempts,
                "callback_url": job.notices.callback_url,
                "notify_email": job.notices.email,
            })
        })
        .collect();
    let inserted = sql(DB::INSERT_JOBS)
        .bind(now_ms())
        .bind(Value::from(rows).to_string())
        .fetch_all(&mut *tx)
        .await?;
    let mut by_id = std::collections::HashMap::with_capacity(inserted.len());
    for row in &inserted {
        let record = job_from_row(row)?;
        by_id.insert(record.id.clone(), record);
    }
    let records = ids
        .iter()
        .map(|id| {
            by_id
                .remove(id)
                .ok_or_else(|| StoreError::Corrupt(format!("job {id} was not queued")))
        })
        .collect::<StoreResult<Vec<JobRecord>>>()?;
    for (job, id) in jobs.iter().zip(&ids) {
        insert_references(tx, id, &job.references).await?;
    }
    let events = records
        .iter()
        .map(|record| event_of(&record.id, "state", &state_event(record)))
        .collect();
    insert_events(tx, events).await?;
    Ok(records.into_iter().map(|record| (record, true)).collect())
}

/// One group's jobs, in order; several jobs submitted together take no
/// idempotency key.
async fn queue_group<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    group: &[NewJob],
) -> StoreResult<Vec<(JobRecord, bool)>> {
    if group.len() > 1 && group.iter().any(|job| job.idempotency_key.is_some()) {
        return Err(StoreError::Conflict(
            "jobs submitted together take no idempotency key".into(),
        ));
    }
    let mut records = Vec::with_capacity(group.len());
    for job in group {
        // Insert first (taking the write lock at once) and let the unique
        // (owner, idempotency key) constraint tell us about an earlier job.
        match insert_queued_job(tx, job).await? {
            Some(record) => records.push((record, true)),
            None => records.push((earlier_job(tx, job).await?, false)),
        }
    }
    Ok(records)
}

/// The job an idempotency key stood for, when `job` is the same submission.
async fn earlier_job<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job: &NewJob,
) -> StoreResult<JobRecord> {
    let row = sql("SELECT * FROM jobs WHERE owner_id = $1 AND idempotency_key = $2")
        .bind(&job.owner_id)
        .bind(&job.idempotency_key)
        .fetch_one(&mut *tx)
        .await?;
    let earlier = job_from_row(&row)?;
    // Jobs from before fingerprints were kept match any submission.
    let fingerprint = row.opt_text("request_fingerprint")?;
    if fingerprint.is_some_and(|f| f != job.fingerprint()) {
        return Err(StoreError::KeyReused { job_id: earlier.id });
    }
    Ok(earlier)
}

pub(crate) async fn job_by_idempotency_key<DB: Backend>(
    pool: &Pool<DB>,
    owner_id: &str,
    key: &str,
) -> StoreResult<Option<JobRecord>> {
    let row = sql("SELECT * FROM jobs WHERE owner_id = $1 AND idempotency_key = $2")
        .bind(owner_id)
        .bind(key)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(job_from_row).transpose()
}

/// Ids of jobs that ended before `before`, oldest first.
pub(crate) async fn jobs_ended_before<DB: Backend>(
    pool: &Pool<DB>,
    before: i64,
    limit: i64,
) -> StoreResult<Vec<String>> {
    let rows = sql("SELECT id FROM jobs WHERE finished_at < $1 ORDER BY finished_at LIMIT $2")
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(|row| row.text("id")).collect()
}

pub(crate) async fn get_job<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<JobRecord>> {
    let row = sql("SELECT * FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(job_from_row).transpose()
}

/// Newest first.
pub(crate) async fn list_jobs<DB: Backend>(
    pool: &Pool<DB>,
    filter: &JobFilter,
) -> StoreResult<Vec<JobRecord>> {
    let mut query = Assembled::new("SELECT * FROM jobs WHERE 1 = 1");
    if let Some(owner) = &filter.owner_id {
        query = query.push(" AND owner_id = ").push_bind(owner);
    }
    if let Some(state) = filter.state {
        query = query.push(" AND state = ").push_bind(state.as_str());
    }
    if let Some(pipeline) = &filter.pipeline {
        query = query.push(" AND pipeline = ").push_bind(pipeline);
    }
    if let Some(before) = &filter.before {
        query = query.push(" AND id < ").push_bind(before);
    }
    if let Some(from) = filter.created_from {
        query = query.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(until) = filter.created_until {
        query = query.push(" AND created_at < ").push_bind(until);
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
        // LOWER on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        query = query
            .push(" AND (LOWER(params) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR LOWER(pipeline) LIKE ")
            .push_bind(pattern.clone())
            .push(
                " ESCAPE '\\' OR upload_id IN (SELECT id FROM uploads WHERE LOWER(filename) LIKE ",
            )
            .push_bind(pattern)
            .push(" ESCAPE '\\'))");
    }
    let rows = query
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(filter.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(job_from_row).collect()
}

/// `text` with LIKE's wildcards taken literally (escaped with a backslash).
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The jobs that ended at or after `since` (ms), at most `limit`, newest first.
pub(crate) async fn ended_jobs_since<DB: Backend>(
    pool: &Pool<DB>,
    since: i64,
    limit: i64,
) -> StoreResult<Vec<EndedJob>> {
    let rows = sql("SELECT pipeline, state, started_at, finished_at FROM jobs \
         WHERE finished_at >= $1 ORDER BY finished_at DESC LIMIT $2")
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(ended_job_from_row).collect()
}

/// Deletes a job with its events and artifact records.
pub(crate) async fn delete_job<DB: Backend>(pool: &Pool<DB>, job_id: &str) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for statement in [
        "DELETE FROM job_events WHERE job_id = $1",
        "DELETE FROM artifacts WHERE job_id = $1",
        "DELETE FROM jobs WHERE id = $1",
    ] {
        sql(statement).bind(job_id).execute(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn count_jobs<DB: Backend>(pool: &Pool<DB>) -> StoreResult<Vec<JobCount>> {
    let rows = sql("SELECT pipeline, state, COUNT(*) AS n FROM jobs GROUP BY pipeline, state")
        .fetch_all(pool)
        .await?;
    rows.iter().map(job_count_from_row).collect()
}

/// Queued, retrying and running jobs by pipeline and state.
pub(crate) async fn queue_stats<DB: Backend>(pool: &Pool<DB>) -> StoreResult<Vec<QueueStat>> {
    let rows = sql(
        "SELECT pipeline, state, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs \
                    WHERE state IN ('queued', 'retrying', 'running') \
                    GROUP BY pipeline, state ORDER BY pipeline, state",
    )
    .fetch_all(pool)
    .await?;
    rows.iter().map(queue_stat_from_row).collect()
}

pub(crate) async fn events_after<DB: Backend>(
    pool: &Pool<DB>,
    job_id: &str,
    after_id: i64,
    limit: i64,
) -> StoreResult<Vec<JobEvent>> {
    let rows = sql("SELECT * FROM job_events WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(job_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(event_from_row).collect()
}
