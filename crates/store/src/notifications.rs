//! Notifications: users' webhook endpoints, the secret that signs their
//! jobs' callbacks, and the outbox. A state change writes its announcements
//! ([`JobAnnouncement`]s) into the outbox in its own transaction
//! ([`enqueue_job_event`]); the notifier claims them, sends them and
//! records each attempt.

use serde_json::Value;
use sqlx::{Pool, Transaction};
use uuid::Uuid;

use crate::dialect::Dialect;
use crate::error::StoreError;
use crate::model::*;
use crate::now_ms;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::sql::{sql, Backend, StoredRow};

/// How long a delivery is retried after the event it announces, or after
/// it was queued again by hand.
const DELIVERY_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Writes to the outbox one delivery of `event` for each target that wants
/// it: the owner's endpoints subscribed to it, the job's callback URL (its
/// end only) and its notification address (success or failure).
pub(crate) async fn enqueue_job_event<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job: &JobRecord,
    event: &str,
) -> StoreResult<()> {
    let endpoints = endpoints_of(tx, &job.owner_id).await?;
    enqueue_to(tx, job, event, &endpoints).await
}

/// An owner's webhook endpoints.
async fn endpoints_of<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    owner_id: &str,
) -> StoreResult<Vec<WebhookEndpoint>> {
    let rows = sql("SELECT * FROM webhook_endpoints WHERE owner_id = $1 ORDER BY id")
        .bind(owner_id)
        .fetch_all(&mut *tx)
        .await?;
    rows.iter().map(webhook_from_row).collect()
}

/// [`enqueue_job_event`] with the owner's endpoints already read.
async fn enqueue_to<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job: &JobRecord,
    event: &str,
    endpoints: &[WebhookEndpoint],
) -> StoreResult<()> {
    let mut targets = Vec::new();
    for endpoint in endpoints {
        if endpoint.events.iter().any(|e| e == event) {
            targets.push((
                Channel::Webhook,
                endpoint.url.clone(),
                Some(endpoint.id.clone()),
            ));
        }
    }
    if job.state.is_terminal() {
        if let Some(url) = &job.notices.callback_url {
            targets.push((Channel::Webhook, url.clone(), None));
        }
    }
    if matches!(job.state, JobState::Succeeded | JobState::Failed) {
        if let Some(address) = &job.notices.email {
            targets.push((Channel::Email, address.clone(), None));
        }
    }
    if targets.is_empty() {
        return Ok(());
    }
    let payload = JobAnnouncement::new(event, job)
        .to_payload()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let now = now_ms();
    for (channel, target, endpoint_id) in targets {
        sql(
            "INSERT INTO deliveries (id, job_id, owner_id, channel, target, endpoint_id, event, \
             payload, state, attempts, next_attempt_at, give_up_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $10, $9, $9)",
        )
        .bind(Uuid::now_v7().to_string())
        .bind(&job.id)
        .bind(&job.owner_id)
        .bind(channel.as_str())
        .bind(target)
        .bind(endpoint_id)
        .bind(event)
        .bind(&payload)
        .bind(now)
        .bind(now + DELIVERY_WINDOW_MS)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Announces the ends of `jobs` (those whose state is one), reading each
/// owner's endpoints once.
pub(crate) async fn enqueue_job_ends<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    jobs: &[JobRecord],
) -> StoreResult<()> {
    let mut endpoints: std::collections::HashMap<&str, Vec<WebhookEndpoint>> =
        std::collections::HashMap::new();
    for job in jobs.iter().filter(|job| job.state.is_terminal()) {
        if !endpoints.contains_key(job.owner_id.as_str()) {
            let owned = endpoints_of(tx, &job.owner_id).await?;
            endpoints.insert(&job.owner_id, owned);
        }
        let event = format!("job.{}", job.state.as_str());
        let owned = &endpoints[job.owner_id.as_str()];
        enqueue_to(tx, job, &event, owned).await?;
    }
    Ok(())
}

/// Announces a job's end, when the state it reached is one.
pub(crate) async fn enqueue_job_end<DB: Backend>(
    tx: &mut Transaction<'_, DB>,
    job: &JobRecord,
) -> StoreResult<()> {
    enqueue_job_ends(tx, std::slice::from_ref(job)).await
}

pub(crate) async fn create_webhook<DB: Backend>(
    pool: &Pool<DB>,
    endpoint: &WebhookEndpoint,
) -> StoreResult<()> {
    sql(
        "INSERT INTO webhook_endpoints (id, owner_id, url, events, secret, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&endpoint.id)
    .bind(&endpoint.owner_id)
    .bind(&endpoint.url)
    .bind(Value::from(endpoint.events.clone()).to_string())
    .bind(&endpoint.secret)
    .bind(endpoint.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn list_webhooks<DB: Backend>(
    pool: &Pool<DB>,
    owner_id: &str,
) -> StoreResult<Vec<WebhookEndpoint>> {
    let rows = sql("SELECT * FROM webhook_endpoints WHERE owner_id = $1 ORDER BY id")
        .bind(owner_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(webhook_from_row).collect()
}

pub(crate) async fn get_webhook<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<WebhookEndpoint>> {
    let row = sql("SELECT * FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(webhook_from_row).transpose()
}

/// False when the owner has no such endpoint.
pub(crate) async fn delete_webhook<DB: Backend>(
    pool: &Pool<DB>,
    owner_id: &str,
    id: &str,
) -> StoreResult<bool> {
    let changed = sql("DELETE FROM webhook_endpoints WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner_id)
        .execute(pool)
        .await?;
    Ok(changed > 0)
}

/// `None` when the owner has no such endpoint.
pub(crate) async fn set_webhook_secret<DB: Backend>(
    pool: &Pool<DB>,
    owner_id: &str,
    id: &str,
    secret: &str,
) -> StoreResult<Option<WebhookEndpoint>> {
    let row = sql(
        "UPDATE webhook_endpoints SET secret = $1 WHERE id = $2 AND owner_id = $3 \
                   RETURNING *",
    )
    .bind(secret)
    .bind(id)
    .bind(owner_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(webhook_from_row).transpose()
}

/// The owner's callback secret; `candidate` becomes it when they have none.
pub(crate) async fn callback_secret<DB: Backend>(
    pool: &Pool<DB>,
    owner_id: &str,
    candidate: &str,
) -> StoreResult<String> {
    // Read first: every callback delivery asks, and only the first one of
    // a user's needs to write.
    const SELECT: &str = "SELECT secret FROM callback_secrets WHERE owner_id = $1";
    if let Some(row) = sql(SELECT).bind(owner_id).fetch_optional(pool).await? {
        return row.text("secret");
    }
    sql(
        "INSERT INTO callback_secrets (owner_id, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (owner_id) DO NOTHING",
    )
    .bind(owner_id)
    .bind(candidate)
    .bind(now_ms())
    .execute(pool)
    .await?;
    sql(SELECT)
        .bind(owner_id)
        .fetch_one(pool)
        .await?
        .text("secret")
}

pub(crate) async fn set_callback_secret<DB: Backend>(
    pool: &Pool<DB>,
    owner_id: &str,
    secret: &str,
) -> StoreResult<()> {
    sql(
        "INSERT INTO callback_secrets (owner_id, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (owner_id) DO UPDATE SET secret = excluded.secret, \
         created_at = excluded.created_at",
    )
    .bind(owner_id)
    .bind(secret)
    .bind(now_ms())
    .execute(pool)
    .await?;
    Ok(())
}

/// Queues `callback`, due now; false when one with its id is queued already.
pub(crate) async fn enqueue_callback<DB: Backend>(
    pool: &Pool<DB>,
    callback: &CustomCallback,
) -> StoreResult<bool> {
    let now = now_ms();
    let done = sql(
        "INSERT INTO deliveries (id, job_id, owner_id, channel, target, endpoint_id, event, \
         payload, state, attempts, next_attempt_at, give_up_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, 'pending', 0, $8, $9, $8, $8) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&callback.id)
    .bind(&callback.job_id)
    .bind(&callback.owner_id)
    .bind(Channel::Webhook.as_str())
    .bind(&callback.target)
    .bind(&callback.event)
    .bind(&callback.payload)
    .bind(now)
    .bind(now + DELIVERY_WINDOW_MS)
    .execute(pool)
    .await?;
    Ok(done == 1)
}

/// Takes up to `limit` due deliveries, counting an attempt for each and
/// holding them until `hold_until`.
pub(crate) async fn claim_deliveries<DB: Dialect>(
    pool: &Pool<DB>,
    limit: i64,
    hold_until: i64,
    with_email: bool,
) -> StoreResult<Vec<Delivery>> {
    let rows = sql(DB::CLAIM_DELIVERIES)
        .bind(hold_until)
        .bind(now_ms())
        .bind(with_email)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(delivery_from_row).collect()
}

/// Records an attempt and what follows it; false (the attempt kept, what
/// follows it not) when the delivery was claimed again meanwhile.
pub(crate) async fn record_attempt<DB: Backend>(
    pool: &Pool<DB>,
    attempt: &DeliveryAttempt,
    after: AfterAttempt,
) -> StoreResult<bool> {
    let (state, next_attempt_at) = match after {
        AfterAttempt::Delivered => (DeliveryState::Delivered, None),
        AfterAttempt::RetryAt(at) => (DeliveryState::Pending, Some(at)),
        AfterAttempt::GiveUp => (DeliveryState::Failed, None),
    };
    let mut tx = pool.begin().await?;
    let changed = sql("UPDATE deliveries SET state = $1, \
                       next_attempt_at = COALESCE($2, next_attempt_at), updated_at = $3 \
                       WHERE id = $4 AND attempts = $5 AND state = 'pending'")
    .bind(state.as_str())
    .bind(next_attempt_at)
    .bind(now_ms())
    .bind(&attempt.delivery_id)
    .bind(attempt.attempt)
    .execute(&mut tx)
    .await?;
    // The attempt happened, so it is kept even when its outcome comes too late.
    sql(
        "INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, \
         status_code, error, succeeded) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (delivery_id, attempt) DO NOTHING",
    )
    .bind(&attempt.delivery_id)
    .bind(attempt.attempt)
    .bind(attempt.started_at)
    .bind(attempt.duration_ms)
    .bind(attempt.status_code)
    .bind(&attempt.error)
    .bind(i64::from(attempt.succeeded))
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(changed > 0)
}

/// A job's deliveries, oldest first.
pub(crate) async fn list_deliveries<DB: Backend>(
    pool: &Pool<DB>,
    job_id: &str,
) -> StoreResult<Vec<Delivery>> {
    let rows = sql("SELECT * FROM deliveries WHERE job_id = $1 ORDER BY id")
        .bind(job_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(delivery_from_row).collect()
}

/// The newest `limit` deliveries of every job, newest first.
pub(crate) async fn recent_deliveries<DB: Backend>(
    pool: &Pool<DB>,
    limit: i64,
) -> StoreResult<Vec<Delivery>> {
    let rows = sql("SELECT * FROM deliveries ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(delivery_from_row).collect()
}

/// The attempts at all of a job's deliveries, in order.
pub(crate) async fn list_attempts<DB: Backend>(
    pool: &Pool<DB>,
    job_id: &str,
) -> StoreResult<Vec<DeliveryAttempt>> {
    let rows = sql("SELECT * FROM delivery_attempts \
                    WHERE delivery_id IN (SELECT id FROM deliveries WHERE job_id = $1) \
                    ORDER BY delivery_id, attempt")
    .bind(job_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(attempt_from_row).collect()
}

/// Queues a delivered or given-up delivery again, due now; false when the
/// job has no such delivery or it is still pending.
pub(crate) async fn redeliver<DB: Backend>(
    pool: &Pool<DB>,
    job_id: &str,
    delivery_id: &str,
) -> StoreResult<bool> {
    let now = now_ms();
    let changed = sql(
        "UPDATE deliveries SET state = 'pending', next_attempt_at = $1, \
                       give_up_at = $2, updated_at = $1 \
                       WHERE id = $3 AND job_id = $4 AND state <> 'pending'",
    )
    .bind(now)
    .bind(now + DELIVERY_WINDOW_MS)
    .bind(delivery_id)
    .bind(job_id)
    .execute(pool)
    .await?;
    Ok(changed > 0)
}
