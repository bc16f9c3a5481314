//! The SQL of notifications, shared by both backends like `shared.rs`:
//! webhook endpoints, callback secrets, users' mail setting and the outbox. `outbox_helpers!`
//! gives the function the state changes call to write their announcements in
//! their own transaction; `with_notification_methods!` the [`crate::Store`]
//! methods.

/// How long a delivery is retried after the event it announces, or after
/// it was queued again by hand.
pub(crate) const DELIVERY_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Defines `enqueue_job_event` for a backend whose database is `$db`.
macro_rules! outbox_helpers {
    ($db:ty) => {
        /// Writes to the outbox one delivery of `event` for each target that
        /// wants it: the owner's endpoints subscribed to it, the job's callback
        /// URL (its end only) and its notification address (success or failure).
        async fn enqueue_job_event(
            tx: &mut sqlx::Transaction<'_, $db>,
            job: &JobRecord,
            event: &str,
        ) -> StoreResult<()> {
            let rows = sqlx::query(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE owner_id = $1 ORDER BY id"
            ))
            .bind(&job.owner_id)
            .fetch_all(&mut **tx)
            .await?;
            let mut targets = Vec::new();
            for row in &rows {
                let endpoint = webhook_from_row(row)?;
                if endpoint.events.iter().any(|e| e == event) {
                    targets.push((Channel::Webhook, endpoint.url, Some(endpoint.id)));
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
            let payload = job_event_payload(event, job);
            let now = now_ms();
            for (channel, target, endpoint_id) in targets {
                sqlx::query(&format!(
                    "INSERT INTO deliveries ({DELIVERY_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $10, $11, $12)"
                ))
                .bind(Uuid::now_v7().to_string())
                .bind(&job.id)
                .bind(&job.owner_id)
                .bind(channel.as_str())
                .bind(target)
                .bind(endpoint_id)
                .bind(event)
                .bind(&payload)
                .bind(now)
                .bind(now + $crate::notifications::DELIVERY_WINDOW_MS)
                .bind(now)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// Announces a job's end, when the state it reached is one.
        async fn enqueue_job_end(
            tx: &mut sqlx::Transaction<'_, $db>,
            job: &JobRecord,
        ) -> StoreResult<()> {
            if !job.state.is_terminal() {
                return Ok(());
            }
            enqueue_job_event(tx, job, &format!("job.{}", job.state.as_str())).await
        }
    };
}
pub(crate) use outbox_helpers;

/// Calls `$then!($store, $db, { <the notification methods> $extra })`.
/// The methods must be written out in the call that makes the impl:
/// `#[async_trait]` rewrites the methods it sees there, and a macro called
/// inside the impl would expand only after it.
macro_rules! with_notification_methods {
    ($then:ident, $store:ty, $db:ty, { $($extra:tt)* }) => {
        $then!($store, $db, {
        async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> StoreResult<()> {
            sqlx::query(&format!(
                "INSERT INTO webhook_endpoints ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
            ))
            .bind(&endpoint.id)
            .bind(&endpoint.owner_id)
            .bind(&endpoint.url)
            .bind(Value::from(endpoint.events.clone()).to_string())
            .bind(&endpoint.secret)
            .bind(endpoint.created_at)
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        async fn list_webhooks(&self, owner_id: &str) -> StoreResult<Vec<WebhookEndpoint>> {
            let rows = sqlx::query(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE owner_id = $1 ORDER BY id"
            ))
            .bind(owner_id)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(webhook_from_row).collect()
        }

        async fn get_webhook(&self, id: &str) -> StoreResult<Option<WebhookEndpoint>> {
            let row = sqlx::query(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(webhook_from_row).transpose()
        }

        async fn delete_webhook(&self, owner_id: &str, id: &str) -> StoreResult<bool> {
            let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1 AND owner_id = $2")
                .bind(id)
                .bind(owner_id)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() > 0)
        }

        async fn set_webhook_secret(
            &self,
            owner_id: &str,
            id: &str,
            secret: &str,
        ) -> StoreResult<Option<WebhookEndpoint>> {
            let row = sqlx::query(&format!(
                "UPDATE webhook_endpoints SET secret = $1 WHERE id = $2 AND owner_id = $3 \
                 RETURNING {WEBHOOK_COLUMNS}"
            ))
            .bind(secret)
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(webhook_from_row).transpose()
        }

        async fn callback_secret(&self, owner_id: &str, candidate: &str) -> StoreResult<String> {
            // Read first: every callback delivery asks, and only the first
            // one of a user's needs to write.
            const SELECT: &str = "SELECT secret FROM callback_secrets WHERE owner_id = $1";
            let found: Option<String> = sqlx::query_scalar(SELECT)
                .bind(owner_id)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(secret) = found {
                return Ok(secret);
            }
            sqlx::query(
                "INSERT INTO callback_secrets (owner_id, secret, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (owner_id) DO NOTHING",
            )
            .bind(owner_id)
            .bind(candidate)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
            Ok(sqlx::query_scalar(SELECT)
                .bind(owner_id)
                .fetch_one(&self.pool)
                .await?)
        }

        async fn set_callback_secret(&self, owner_id: &str, secret: &str) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO callback_secrets (owner_id, secret, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (owner_id) DO UPDATE SET secret = excluded.secret, \
                 created_at = excluded.created_at",
            )
            .bind(owner_id)
            .bind(secret)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        async fn set_notify_by_email(
            &self,
            user_id: &str,
            on: bool,
        ) -> StoreResult<Option<UserRecord>> {
            let row = sqlx::query(&format!(
                "UPDATE users SET notify_by_email = $1 WHERE id = $2 RETURNING {USER_COLUMNS}"
            ))
            .bind(i64::from(on))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(user_from_row).transpose()
        }

        async fn claim_deliveries(
            &self,
            limit: i64,
            hold_until: i64,
            with_email: bool,
        ) -> StoreResult<Vec<Delivery>> {
            let now = now_ms();
            let rows = sqlx::query(&format!(
                "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $1, updated_at = $2 \
                 WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' \
                              AND next_attempt_at <= $3 AND (channel = 'webhook' OR $4) \
                              ORDER BY next_attempt_at, id LIMIT $5 {CLAIM_LOCK}) \
                 RETURNING {DELIVERY_COLUMNS}"
            ))
            .bind(hold_until)
            .bind(now)
            .bind(now)
            .bind(with_email)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(delivery_from_row).collect()
        }

        async fn record_attempt(
            &self,
            attempt: &DeliveryAttempt,
            after: AfterAttempt,
        ) -> StoreResult<bool> {
            let (state, next_attempt_at) = match after {
                AfterAttempt::Delivered => (DeliveryState::Delivered, None),
                AfterAttempt::RetryAt(at) => (DeliveryState::Pending, Some(at)),
                AfterAttempt::GiveUp => (DeliveryState::Failed, None),
            };
            let mut tx = self.pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE deliveries SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 updated_at = $3 WHERE id = $4 AND attempts = $5 AND state = 'pending'",
            )
            .bind(state.as_str())
            .bind(next_attempt_at)
            .bind(now_ms())
            .bind(&attempt.delivery_id)
            .bind(attempt.attempt)
            .execute(&mut *tx)
            .await?;
            // The attempt happened, so it is kept even when its outcome comes too late.
            sqlx::query(&format!(
                "INSERT INTO delivery_attempts ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (delivery_id, attempt) DO NOTHING"
            ))
            .bind(&attempt.delivery_id)
            .bind(attempt.attempt)
            .bind(attempt.started_at)
            .bind(attempt.duration_ms)
            .bind(attempt.status_code)
            .bind(&attempt.error)
            .bind(i64::from(attempt.succeeded))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(updated.rows_affected() > 0)
        }

        async fn list_deliveries(&self, job_id: &str) -> StoreResult<Vec<Delivery>> {
            let rows = sqlx::query(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE job_id = $1 ORDER BY id"
            ))
            .bind(job_id)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(delivery_from_row).collect()
        }

        async fn list_attempts(&self, job_id: &str) -> StoreResult<Vec<DeliveryAttempt>> {
            let rows = sqlx::query(&format!(
                "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts \
                 WHERE delivery_id IN (SELECT id FROM deliveries WHERE job_id = $1) \
                 ORDER BY delivery_id, attempt"
            ))
            .bind(job_id)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(attempt_from_row).collect()
        }

        async fn redeliver(&self, job_id: &str, delivery_id: &str) -> StoreResult<bool> {
            let now = now_ms();
            let done = sqlx::query(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = $1, give_up_at = $2, \
                 updated_at = $3 WHERE id = $4 AND job_id = $5 AND state <> 'pending'",
            )
            .bind(now)
            .bind(now + $crate::notifications::DELIVERY_WINDOW_MS)
            .bind(now)
            .bind(delivery_id)
            .bind(job_id)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        $($extra)*
        });
    };
}
pub(crate) use with_notification_methods;
