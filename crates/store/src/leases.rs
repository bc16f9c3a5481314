//! The transitions of a job once queued, one typed function each: a worker
//! claims it under a lease, renews the lease with heartbeats and finishes
//! it with an [`Outcome`]; its owner cancels it; a lease that expired puts
//! it back in the queue. Each writes the job, its history and the
//! announcements of what happened in one transaction.

use serde_json::Value;
use sqlx::{Pool, Transaction};

use crate::dialect::{Claim, Dialect};
use crate::jobs::{
    announce_new_job, event_of, insert_events, insert_progress_event, insert_state_event,
};
use crate::model::*;
use crate::notifications::{enqueue_job_end, enqueue_job_ends, enqueue_job_event};
use crate::now_ms;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::sql::{sql, Backend, StoredRow};

/// Takes up to `request.limit` runnable jobs, each under a lease of its own,
/// fairly across owners (a batch takes what as many single claims in a row
/// would) and passing over owners at the cap, in one transaction: one
/// statement where the database can (see [`Claim`]), and one for their
/// events.
pub(crate) async fn claim<DB: Dialect>(
    pool: &Pool<DB>,
    request: &ClaimRequest,
) -> StoreResult<Vec<ClaimedJob>> {
    if request.limit == 0 {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let mut tx = pool.begin().await?;
    if let (Some(_), Some(serialize)) = (request.max_running_per_owner, DB::SERIALIZE_CLAIMS) {
        // Claims that count against a cap must see each other.
        sql(serialize).execute(&mut tx).await?;
    }
    let claimed = match DB::CLAIM {
        Claim::Batch(statement) => claim_batch(&mut tx, statement, request, now).await?,
        Claim::OneByOne(statement) => claim_one_by_one(&mut tx, statement, request, now).await?,
    };
    if claimed.is_empty() {
        // Nothing was written: no commit to wait for.
        return Ok(claimed);
    }
    let events = claimed
        .iter()
        .map(|c| event_of(&c.job.id, "state", &state_event(&c.job)))
        .collect();
    insert_events(&mut tx, events).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Claims with one statement for the whole batch; oldest first.
async fn claim_batch<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    statement: &'static str,
    request: &ClaimRequest,
    now: i64,
) -> StoreResult<Vec<ClaimedJob>> {
    let rows = sql(statement)
        .bind(now + request.lease_ttl_ms)
        .bind(request.worker_id.as_str())
        .bind(now)
        .bind(Value::from(request.pipelines.clone()).to_string())
        .bind(request.max_running_per_owner.unwrap_or(i64::MAX))
        .bind(i64::try_from(request.limit).unwrap_or(i64::MAX))
        .bind(request.max_running_per_owner.is_none())
        .fetch_all(&mut *tx)
        .await?;
    let mut claimed = rows
        .iter()
        .map(|row| {
            Ok(ClaimedJob {
                job: job_from_row(row)?,
                lease: LeaseToken(row.text("lease_token")?),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    // The statement returns its rows in no particular order.
    claimed.sort_by(|a, b| (a.job.run_after, &a.job.id).cmp(&(b.job.run_after, &b.job.id)));
    Ok(claimed)
}

/// Claims one job per statement until the batch is full or none is left.
async fn claim_one_by_one<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    statement: &'static str,
    request: &ClaimRequest,
    now: i64,
) -> StoreResult<Vec<ClaimedJob>> {
    let pipelines = Value::from(request.pipelines.clone()).to_string();
    let mut claimed = Vec::with_capacity(request.limit);
    while claimed.len() < request.limit {
        let lease = LeaseToken(uuid::Uuid::new_v4().to_string());
        let row = sql(statement)
            .bind(&lease.0)
            .bind(now + request.lease_ttl_ms)
            .bind(request.worker_id.as_str())
            .bind(now)
            .bind(pipelines.as_str())
            .bind(request.max_running_per_owner.unwrap_or(i64::MAX))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            break;
        };
        claimed.push(ClaimedJob {
            job: job_from_row(&row)?,
            lease,
        });
    }
    Ok(claimed)
}

/// Renews every lease in `renewals` (those without progress in one
/// statement) and records the progress some carry; one transaction. One
/// answer per renewal, in order: a lease another worker holds now, or whose
/// job ended, is lost.
pub(crate) async fn renew<DB: Dialect>(
    pool: &Pool<DB>,
    renewals: &[LeaseRenewal],
    lease_ttl_ms: i64,
) -> StoreResult<Vec<Heartbeat>> {
    if renewals.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let expires = now + lease_ttl_ms;
    let mut tx = pool.begin().await?;
    let plain: Vec<Value> = renewals
        .iter()
        .filter(|r| r.progress.is_none())
        .map(|r| serde_json::json!({"id": r.job_id, "lease": r.lease.0}))
        .collect();
    // Job id → cancel requested, for every lease still held.
    let mut held = std::collections::HashMap::new();
    if !plain.is_empty() {
        let rows = sql(DB::RENEW_LEASES)
            .bind(expires)
            .bind(now)
            .bind(Value::from(plain).to_string())
            .fetch_all(&mut tx)
            .await?;
        for row in rows {
            held.insert(row.text("id")?, row.int("cancel_requested")? != 0);
        }
    }
    for renewal in renewals {
        let Some((fraction, stage)) = renewal.progress.clone() else {
            continue;
        };
        let job = renew_with_progress(
            &mut tx,
            &renewal.job_id,
            &renewal.lease,
            now,
            expires,
            fraction,
            stage,
        )
        .await?;
        if let Some(job) = job {
            held.insert(job.id, job.cancel_requested);
        }
    }
    tx.commit().await?;
    Ok(renewals
        .iter()
        .map(|renewal| match held.get(&renewal.job_id) {
            Some(true) => Heartbeat::CancelRequested,
            Some(false) => Heartbeat::Renewed,
            None => Heartbeat::LeaseLost,
        })
        .collect())
}

/// A beat that reports progress: it is recorded and announced, which takes
/// the job. `None` when the lease was lost.
async fn renew_with_progress<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job_id: &str,
    lease: &LeaseToken,
    now: i64,
    lease_expires_at: i64,
    fraction: f64,
    stage: Option<String>,
) -> StoreResult<Option<JobRecord>> {
    let row = sql(
        "UPDATE jobs SET lease_expires_at = $1, updated_at = $2, progress = $3, \
                   stage = $4 WHERE id = $5 AND lease_token = $6 AND state = 'running' \
                   RETURNING *",
    )
    .bind(lease_expires_at)
    .bind(now)
    .bind(fraction)
    .bind(stage.as_deref())
    .bind(job_id)
    .bind(&lease.0)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let job = job_from_row(&row)?;
    insert_progress_event(tx, job_id, fraction, stage.as_deref()).await?;
    enqueue_job_event(tx, &job, "job.progress").await?;
    Ok(Some(job))
}

/// What finishing a hold writes into the job, by outcome.
struct Ending {
    state: JobState,
    error: Option<String>,
    /// When it may run again; `None` keeps the time it had.
    run_after: Option<i64>,
    warnings: Vec<String>,
    /// A released job's attempt does not count.
    attempts_delta: i64,
    finished_at: Option<i64>,
    /// `None` keeps the progress it reached.
    progress: Option<f64>,
}

impl Ending {
    /// What reaching `state` writes unless the outcome says more: the job
    /// ends now, with no error nor warnings, its run time and progress kept.
    fn at(state: JobState, now: i64) -> Self {
        Ending {
            state,
            error: None,
            run_after: None,
            warnings: Vec::new(),
            attempts_delta: 0,
            finished_at: Some(now),
            progress: None,
        }
    }

    /// This ending of `job_id`'s hold under `lease`, as `finish_jobs.sql` reads it.
    fn to_json(&self, job_id: &str, lease: &LeaseToken) -> Value {
        serde_json::json!({
            "id": job_id,
            "lease": lease.0,
            "state": self.state.as_str(),
            "error": self.error,
            "run_after": self.run_after,
            "warnings": Value::from(self.warnings.clone()).to_string(),
            "attempts_delta": self.attempts_delta,
            "finished_at": self.finished_at,
            "progress": self.progress,
        })
    }

    fn of(outcome: Outcome, now: i64) -> Self {
        match outcome {
            Outcome::Succeeded { warnings } => Ending {
                warnings,
                progress: Some(1.0),
                ..Ending::at(JobState::Succeeded, now)
            },
            Outcome::Failed { error } => Ending {
                error: Some(error),
                ..Ending::at(JobState::Failed, now)
            },
            Outcome::Retry { error, run_after } => Ending {
                error: Some(error),
                run_after: Some(run_after),
                finished_at: None,
                ..Ending::at(JobState::Retrying, now)
            },
            Outcome::Cancelled => Ending::at(JobState::Cancelled, now),
            Outcome::Released => Ending {
                run_after: Some(now),
                attempts_delta: -1,
                finished_at: None,
                progress: Some(0.0),
                ..Ending::at(JobState::Queued, now)
            },
        }
    }
}

/// Ends workers' holds on jobs, each with its outcome, events and outbox
/// rows, in one transaction of a few statements however many jobs there
/// are. One answer per end, in order: false when its lease was lost
/// (nothing written for that job; the others commit).
pub(crate) async fn finish<DB: Dialect>(
    pool: &Pool<DB>,
    ends: Vec<JobEnd>,
) -> StoreResult<Vec<bool>> {
    if ends.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let mut endings = Vec::with_capacity(ends.len());
    for end in &ends {
        if let Some((fraction, stage)) = end.last_progress.clone() {
            // The run reported progress after its last renewal: recorded
            // first, so watchers see it before the end.
            let renewed =
                renew_with_progress(&mut tx, &end.job_id, &end.lease, now, now, fraction, stage)
                    .await?;
            if renewed.is_none() {
                continue;
            }
        }
        endings.push(Ending::of(end.outcome.clone(), now).to_json(&end.job_id, &end.lease));
    }
    let rows = sql(DB::FINISH_JOBS)
        .bind(now)
        .bind(Value::from(endings).to_string())
        .fetch_all(&mut tx)
        .await?;
    let mut ended: std::collections::HashMap<String, JobRecord> = std::collections::HashMap::new();
    for row in &rows {
        let job = job_from_row(row)?;
        ended.insert(job.id.clone(), job);
    }
    let mut events = Vec::with_capacity(2 * ended.len());
    let mut in_order = Vec::with_capacity(ended.len());
    for end in &ends {
        let Some(job) = ended.get(&end.job_id) else {
            continue;
        };
        if job.state == JobState::Succeeded {
            // Watchers see progress reach 1 before the end (the worker
            // writes no last renewal).
            let progress = serde_json::json!({"progress": 1.0, "stage": job.stage});
            events.push(event_of(&job.id, "progress", &progress));
        }
        events.push(event_of(&job.id, "state", &state_event(job)));
        in_order.push(job.clone());
    }
    insert_events(&mut tx, events).await?;
    enqueue_job_ends(&mut tx, &in_order).await?;
    tx.commit().await?;
    Ok(ends
        .iter()
        .map(|end| ended.contains_key(&end.job_id))
        .collect())
}

/// Cancels a waiting job at once, or flags a running one for its worker.
/// The job as it is afterwards; `None` when there is no such job.
pub(crate) async fn cancel<DB: Backend>(
    pool: &Pool<DB>,
    job_id: &str,
) -> StoreResult<Option<JobRecord>> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    let cancelled = sql(
        "UPDATE jobs SET state = 'cancelled', finished_at = $1, updated_at = $1 \
                         WHERE id = $2 AND state IN ('queued', 'retrying') RETURNING *",
    )
    .bind(now)
    .bind(job_id)
    .fetch_optional(&mut tx)
    .await?;
    let job = match cancelled {
        Some(row) => {
            let job = job_from_row(&row)?;
            insert_state_event(&mut tx, &job).await?;
            enqueue_job_end(&mut tx, &job).await?;
            Some(job)
        }
        None => {
            let row = sql(
                "UPDATE jobs SET cancel_requested = CASE WHEN state = 'running' \
                           THEN 1 ELSE cancel_requested END WHERE id = $1 RETURNING *",
            )
            .bind(job_id)
            .fetch_optional(&mut tx)
            .await?;
            row.as_ref().map(job_from_row).transpose()?
        }
    };
    tx.commit().await?;
    Ok(job)
}

/// Requeues (or fails, when out of attempts, or cancels, when asked to)
/// the running jobs whose lease expired; the ids of those it touched.
pub(crate) async fn requeue_expired<DB: Dialect>(pool: &Pool<DB>) -> StoreResult<Vec<String>> {
    let now = now_ms();
    let expired = sql("SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < $1")
        .bind(now)
        .fetch_all(pool)
        .await?;
    let mut requeued = Vec::new();
    for row in expired {
        let job_id = row.text("id")?;
        if requeue_one(pool, &job_id, now).await? {
            requeued.push(job_id);
        }
    }
    Ok(requeued)
}

/// One job whose lease expired, in a transaction of its own; false when
/// its worker renewed or finished it meanwhile.
async fn requeue_one<DB: Dialect>(pool: &Pool<DB>, job_id: &str, now: i64) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let row = sql("UPDATE jobs SET \
                     state = CASE WHEN cancel_requested = 1 THEN 'cancelled' \
                                  WHEN attempts >= max_attempts THEN 'failed' \
                                  ELSE 'retrying' END, \
                     error = CASE WHEN cancel_requested = 1 THEN NULL \
                                  ELSE 'the worker running this job stopped responding' END, \
                     finished_at = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts \
                                        THEN $1 ELSE NULL END, \
                     run_after = $1, lease_token = NULL, lease_expires_at = NULL, updated_at = $1 \
                   WHERE id = $2 AND state = 'running' AND lease_expires_at < $1 \
                   RETURNING *")
    .bind(now)
    .bind(job_id)
    .fetch_optional(&mut tx)
    .await?;
    let requeued = row.is_some();
    if let Some(row) = row {
        let job = job_from_row(&row)?;
        insert_state_event(&mut tx, &job).await?;
        enqueue_job_end(&mut tx, &job).await?;
        announce_new_job(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(requeued)
}
