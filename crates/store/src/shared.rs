//! The SQL both backends share, written once. Placeholders are `$N`, which
//! SQLite accepts as well as PostgreSQL; the few dialect differences are
//! constants each backend module defines (`PIPELINE_IN_JSON_7`, `CLAIM_LOCK`,
//! `QUEUE_INDEX`, `WAITING_BY_OWNER_INDEX`) along with `announce_new_job`
//! and `serialize_claims`.

/// Implements [`crate::Store`] for a backend type whose `pool` field is a
/// pool of database `$db`. Items in the braces are added to the impl.
macro_rules! shared_store {
    ($store:ty, $db:ty, { $($extra:tt)* }) => {
        $crate::notifications::outbox_helpers!($db);

        async fn insert_event(
            tx: &mut sqlx::Transaction<'_, $db>,
            job_id: &str,
            kind: &str,
            data: &Value,
        ) -> StoreResult<()> {
            sqlx::query("INSERT INTO job_events (job_id, kind, data, created_at) VALUES ($1, $2, $3, $4)")
                .bind(job_id)
                .bind(kind)
                .bind(data.to_string())
                .bind(now_ms())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        async fn insert_upload_row<'c>(
            executor: impl sqlx::Executor<'c, Database = $db>,
            upload: &UploadRecord,
        ) -> StoreResult<()> {
            sqlx::query(&format!(
                "INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&upload.id)
            .bind(&upload.owner_id)
            .bind(&upload.filename)
            .bind(&upload.content_type)
            .bind(upload.size)
            .bind(&upload.sha256)
            .bind(&upload.blob_key)
            .bind(upload.created_at)
            .execute(executor)
            .await?;
            Ok(())
        }

        /// Inserts a queued job and its first event; `None` when the owner
        /// already used the job's idempotency key.
        async fn insert_queued_job(
            tx: &mut sqlx::Transaction<'_, $db>,
            job: &NewJob,
        ) -> StoreResult<Option<JobRecord>> {
            let now = now_ms();
            let inserted = sqlx::query(&format!(
                "INSERT INTO jobs (id, owner_id, pipeline, upload_id, params, state, max_attempts, \
                 run_after, idempotency_key, callback_url, notify_email, created_at, updated_at, \
                 request_fingerprint) \
                 VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (owner_id, idempotency_key) DO NOTHING RETURNING {JOB_COLUMNS}"
            ))
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
            .bind(now)
            .bind(now)
            .bind(job.idempotency_key.as_ref().map(|_| job.fingerprint()))
            .fetch_optional(&mut **tx)
            .await?;
            let Some(row) = inserted else {
                return Ok(None);
            };
            let record = job_from_row(&row)?;
            insert_event(tx, &record.id, "state", &state_event(&record)).await?;
            Ok(Some(record))
        }

        #[async_trait::async_trait]
        impl $crate::repository::Store for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_user(
                &self,
                email: &str,
                password_hash: &str,
                role: Role,
            ) -> StoreResult<UserRecord> {
                let user = UserRecord {
                    id: Uuid::now_v7().to_string(),
                    email: email.to_owned(),
                    password_hash: password_hash.to_owned(),
                    role,
                    notify_by_email: false,
                    created_at: now_ms(),
                };
                let inserted = sqlx::query(
                    "INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&user.id)
                .bind(&user.email)
                .bind(&user.password_hash)
                .bind(user.role.as_str())
                .bind(user.created_at)
                .execute(&self.pool)
                .await;
                match inserted {
                    Ok(_) => Ok(user),
                    Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                        "a user with e-mail {email} already exists"
                    ))),
                    Err(e) => Err(e.into()),
                }
            }

            async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
                ))
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRecord>> {
                let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn create_api_key(
                &self,
                user_id: &str,
                name: &str,
                prefix: &str,
                key_hash: &str,
            ) -> StoreResult<ApiKeyRecord> {
                let key = ApiKeyRecord {
                    id: Uuid::now_v7().to_string(),
                    user_id: user_id.to_owned(),
                    name: name.to_owned(),
                    prefix: prefix.to_owned(),
                    created_at: now_ms(),
                    revoked_at: None,
                };
                sqlx::query(
                    "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&key.id)
                .bind(&key.user_id)
                .bind(&key.name)
                .bind(&key.prefix)
                .bind(key_hash)
                .bind(key.created_at)
                .execute(&self.pool)
                .await?;
                Ok(key)
            }

            async fn list_api_keys(&self, user_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
                let rows = sqlx::query(&format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY id"
                ))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(api_key_from_row).collect()
            }

            async fn revoke_api_key(&self, user_id: &str, key_id: &str) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND user_id = $3",
                )
                .bind(now_ms())
                .bind(key_id)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn user_by_api_key_hash(&self, key_hash: &str) -> StoreResult<Option<UserRecord>> {
                let row = sqlx::query(
                    "SELECT u.id, u.email, u.password_hash, u.role, u.notify_by_email, u.created_at \
                     FROM api_keys k JOIN users u ON u.id = k.user_id \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                )
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn insert_upload(&self, upload: &UploadRecord) -> StoreResult<()> {
                insert_upload_row(&self.pool, upload).await
            }

            async fn get_upload(&self, id: &str) -> StoreResult<Option<UploadRecord>> {
                let row = sqlx::query(&format!(
                    "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(upload_from_row).transpose()
            }

            async fn delete_upload(&self, id: &str) -> StoreResult<UploadRemoval> {
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query(&format!(
                    "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(upload) = row.as_ref().map(upload_from_row).transpose()? else {
                    return Ok(UploadRemoval::Missing);
                };
                let live: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM jobs WHERE upload_id = $1 \
                     AND state IN ('queued', 'running', 'retrying')",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                if live > 0 {
                    return Ok(UploadRemoval::InUse);
                }
                sqlx::query("UPDATE jobs SET upload_id = NULL WHERE upload_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM uploads WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(UploadRemoval::Removed(upload))
            }

            async fn storage_used(&self, owner_id: &str) -> StoreResult<i64> {
                let used: i64 = sqlx::query_scalar(
                    "SELECT CAST((SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner_id = $1) \
                     + (SELECT COALESCE(SUM(a.size), 0) FROM artifacts a \
                        JOIN jobs j ON j.id = a.job_id WHERE j.owner_id = $2) AS BIGINT)",
                )
                .bind(owner_id)
                .bind(owner_id)
                .fetch_one(&self.pool)
                .await?;
                Ok(used)
            }

            async fn unused_uploads_before(
                &self,
                before: i64,
                limit: i64,
            ) -> StoreResult<Vec<UploadRecord>> {
                let rows = sqlx::query(&format!(
                    "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE created_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.upload_id = uploads.id \
                                     AND jobs.state IN ('queued', 'running', 'retrying')) \
                     ORDER BY created_at LIMIT $2"
                ))
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(upload_from_row).collect()
            }

            async fn insert_presigned_upload(&self, upload: &PresignedUpload) -> StoreResult<()> {
                sqlx::query(&format!(
                    "INSERT INTO presigned_uploads ({PRESIGNED_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL, $8, NULL)"
                ))
                .bind(&upload.id)
                .bind(&upload.owner_id)
                .bind(&upload.filename)
                .bind(&upload.content_type)
                .bind(upload.declared_size)
                .bind(&upload.blob_key)
                .bind(upload.expires_at)
                .bind(upload.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_presigned_upload(&self, id: &str) -> StoreResult<Option<PresignedUpload>> {
                let row = sqlx::query(&format!(
                    "SELECT {PRESIGNED_COLUMNS} FROM presigned_uploads WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(presigned_from_row).transpose()
            }

            async fn record_presigned_content(
                &self,
                id: &str,
                key: &str,
                size: i64,
                sha256: &str,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE presigned_uploads SET received_key = $1, received_size = $2, \
                     received_sha256 = $3 WHERE id = $4 AND completed_at IS NULL",
                )
                .bind(key)
                .bind(size)
                .bind(sha256)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn complete_presigned_upload(&self, upload: &UploadRecord) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let marked = sqlx::query(
                    "UPDATE presigned_uploads SET completed_at = $1 \
                     WHERE id = $2 AND completed_at IS NULL",
                )
                .bind(now_ms())
                .bind(&upload.id)
                .execute(&mut *tx)
                .await?;
                if marked.rows_affected() == 0 {
                    return Ok(false);
                }
                insert_upload_row(&mut *tx, upload).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn expired_presigned_uploads(
                &self,
                before_s: i64,
                limit: i64,
            ) -> StoreResult<Vec<PresignedUpload>> {
                let rows = sqlx::query(&format!(
                    "SELECT {PRESIGNED_COLUMNS} FROM presigned_uploads WHERE expires_at < $1 \
                     ORDER BY expires_at LIMIT $2"
                ))
                .bind(before_s)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(presigned_from_row).collect()
            }

            async fn delete_presigned_upload(&self, id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM presigned_uploads WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn create_job(&self, job: NewJob) -> StoreResult<(JobRecord, bool)> {
                let mut tx = self.pool.begin().await?;
                // Insert first (taking the write lock at once) and let the unique
                // (owner, idempotency key) constraint tell us about an earlier job.
                if let Some(record) = insert_queued_job(&mut tx, &job).await? {
                    announce_new_job(&mut tx).await?;
                    tx.commit().await?;
                    return Ok((record, true));
                }
                let row = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS}, request_fingerprint FROM jobs \
                     WHERE owner_id = $1 AND idempotency_key = $2"
                ))
                .bind(&job.owner_id)
                .bind(&job.idempotency_key)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                let earlier = job_from_row(&row)?;
                // Jobs from before fingerprints were kept match any submission.
                let fingerprint: Option<String> = row.try_get("request_fingerprint")?;
                if fingerprint.is_some_and(|f| f != job.fingerprint()) {
                    return Err(StoreError::KeyReused { job_id: earlier.id });
                }
                Ok((earlier, false))
            }

            async fn job_by_idempotency_key(
                &self,
                owner_id: &str,
                key: &str,
            ) -> StoreResult<Option<JobRecord>> {
                let row = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE owner_id = $1 AND idempotency_key = $2"
                ))
                .bind(owner_id)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn jobs_ended_before(&self, before: i64, limit: i64) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT id FROM jobs WHERE finished_at < $1 ORDER BY finished_at LIMIT $2",
                )
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn create_jobs(&self, jobs: Vec<NewJob>) -> StoreResult<Vec<JobRecord>> {
                if jobs.iter().any(|job| job.idempotency_key.is_some()) {
                    return Err(StoreError::Conflict(
                        "jobs submitted together take no idempotency key".into(),
                    ));
                }
                let mut tx = self.pool.begin().await?;
                let mut records = Vec::with_capacity(jobs.len());
                for job in &jobs {
                    // Without an idempotency key there is nothing to conflict with.
                    if let Some(record) = insert_queued_job(&mut tx, job).await? {
                        records.push(record);
                    }
                }
                announce_new_job(&mut tx).await?;
                tx.commit().await?;
                Ok(records)
            }

            async fn get_job(&self, id: &str) -> StoreResult<Option<JobRecord>> {
                let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(job_from_row).transpose()
            }

            async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRecord>> {
                let mut query: sqlx::QueryBuilder<$db> =
                    QueryBuilder::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1 = 1"));
                if let Some(owner) = &filter.owner_id {
                    query.push(" AND owner_id = ").push_bind(owner.clone());
                }
                if let Some(state) = filter.state {
                    query.push(" AND state = ").push_bind(state.as_str());
                }
                if let Some(pipeline) = &filter.pipeline {
                    query.push(" AND pipeline = ").push_bind(pipeline.clone());
                }
                if let Some(before) = &filter.before {
                    query.push(" AND id < ").push_bind(before.clone());
                }
                query
                    .push(" ORDER BY id DESC LIMIT ")
                    .push_bind(filter.limit);
                let rows = query.build().fetch_all(&self.pool).await?;
                rows.iter().map(job_from_row).collect()
            }

            async fn claim_job(
                &self,
                worker_id: &str,
                pipelines: &[String],
                lease_ttl_ms: i64,
                max_running_per_owner: Option<i64>,
            ) -> StoreResult<Option<ClaimedJob>> {
                let now = now_ms();
                let lease = LeaseToken(Uuid::new_v4().to_string());
                let mut tx = self.pool.begin().await?;
                if max_running_per_owner.is_some() {
                    // Claims that count against a cap must see each other.
                    serialize_claims(&mut tx).await?;
                }
                // Fair across owners: `waiting` lists the owners with jobs waiting
                // (one index probe each), `eligible` those of them under the cap
                // with a job this worker can run now, with their running count
                // and that oldest job. The claim takes the oldest job of the
                // owner with the fewest running (ties: whose oldest job is
                // older). When other workers hold all that owner's jobs at this
                // moment (PostgreSQL skips locked rows), it takes the oldest
                // job of any eligible owner rather than none.
                let row = sqlx::query(&format!(
                    "WITH RECURSIVE waiting(owner_id) AS ( \
                         SELECT MIN(owner_id) FROM jobs {WAITING_BY_OWNER_INDEX} \
                         WHERE state IN ('queued', 'retrying') \
                         UNION ALL \
                         SELECT (SELECT MIN(n.owner_id) FROM jobs n {WAITING_BY_OWNER_INDEX} \
                                 WHERE n.state IN ('queued', 'retrying') AND n.owner_id > w.owner_id) \
                         FROM waiting w WHERE w.owner_id IS NOT NULL), \
                     owners AS ( \
                         SELECT w.owner_id, \
                                (SELECT COUNT(*) FROM jobs r \
                                 WHERE r.state = 'running' AND r.owner_id = w.owner_id) AS running, \
                                (SELECT h.id FROM jobs h {WAITING_BY_OWNER_INDEX} \
                                 WHERE h.owner_id = w.owner_id AND h.state IN ('queued', 'retrying') \
                                   AND h.run_after <= $6 AND h.pipeline IN {PIPELINE_IN_JSON_7} \
                                 ORDER BY h.run_after, h.id LIMIT 1) AS oldest_id \
                         FROM waiting w WHERE w.owner_id IS NOT NULL), \
                     eligible AS ( \
                         SELECT o.owner_id, o.running, h.run_after, h.id \
                         FROM owners o JOIN jobs h ON h.id = o.oldest_id WHERE o.running < $8) \
                     UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = $1, \
                     lease_expires_at = $2, worker_id = $3, started_at = COALESCE(started_at, $4), \
                     updated_at = $5, progress = 0, stage = NULL \
                     WHERE id = COALESCE( \
                         (SELECT j.id FROM jobs j {WAITING_BY_OWNER_INDEX} \
                          WHERE j.owner_id = (SELECT e.owner_id FROM eligible e \
                                              ORDER BY e.running, e.run_after, e.id LIMIT 1) \
                            AND j.state IN ('queued', 'retrying') AND j.run_after <= $6 \
                            AND j.pipeline IN {PIPELINE_IN_JSON_7} \
                          ORDER BY j.run_after, j.id LIMIT 1 {CLAIM_LOCK}), \
                         (SELECT j.id FROM jobs j {QUEUE_INDEX} \
                          WHERE j.owner_id IN (SELECT e.owner_id FROM eligible e) \
                            AND j.state IN ('queued', 'retrying') AND j.run_after <= $6 \
                            AND j.pipeline IN {PIPELINE_IN_JSON_7} \
                          ORDER BY j.run_after, j.id LIMIT 1 {CLAIM_LOCK})) \
                       AND state IN ('queued', 'retrying') \
                     RETURNING {JOB_COLUMNS}"
                ))
                .bind(&lease.0)
                .bind(now + lease_ttl_ms)
                .bind(worker_id)
                .bind(now)
                .bind(now)
                .bind(now)
                .bind(Value::from(pipelines.to_vec()).to_string())
                .bind(max_running_per_owner.unwrap_or(i64::MAX))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let job = job_from_row(&row)?;
                insert_event(&mut tx, &job.id, "state", &state_event(&job)).await?;
                tx.commit().await?;
                Ok(Some(ClaimedJob { job, lease }))
            }

            async fn heartbeat(
                &self,
                job_id: &str,
                lease: &LeaseToken,
                lease_ttl_ms: i64,
                progress: Option<(f64, Option<String>)>,
            ) -> StoreResult<Heartbeat> {
                let now = now_ms();
                let mut tx = self.pool.begin().await?;
                // Only a beat that reports progress announces it, and needs the job for that.
                let cancel_requested = match &progress {
                    Some((fraction, stage)) => {
                        let row = sqlx::query(&format!(
                            "UPDATE jobs SET lease_expires_at = $1, updated_at = $2, progress = $3, stage = $4 \
                             WHERE id = $5 AND lease_token = $6 AND state = 'running' \
                             RETURNING {JOB_COLUMNS}"
                        ))
                        .bind(now + lease_ttl_ms)
                        .bind(now)
                        .bind(fraction)
                        .bind(stage)
                        .bind(job_id)
                        .bind(&lease.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let Some(row) = row else {
                            return Ok(Heartbeat::LeaseLost);
                        };
                        let job = job_from_row(&row)?;
                        let data = json!({ "progress": fraction, "stage": stage });
                        insert_event(&mut tx, job_id, "progress", &data).await?;
                        enqueue_job_event(&mut tx, &job, "job.progress").await?;
                        job.cancel_requested
                    }
                    None => {
                        let row = sqlx::query(
                            "UPDATE jobs SET lease_expires_at = $1, updated_at = $2 \
                             WHERE id = $3 AND lease_token = $4 AND state = 'running' \
                             RETURNING cancel_requested",
                        )
                        .bind(now + lease_ttl_ms)
                        .bind(now)
                        .bind(job_id)
                        .bind(&lease.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let Some(row) = row else {
                            return Ok(Heartbeat::LeaseLost);
                        };
                        row.try_get::<i64, _>("cancel_requested")? != 0
                    }
                };
                tx.commit().await?;
                Ok(if cancel_requested {
                    Heartbeat::CancelRequested
                } else {
                    Heartbeat::Renewed
                })
            }

            async fn finish_job(
                &self,
                job_id: &str,
                lease: &LeaseToken,
                outcome: Outcome,
            ) -> StoreResult<bool> {
                let now = now_ms();
                let (state, error, run_after, warnings, attempts_delta, finished_at, progress) =
                    match outcome {
                        Outcome::Succeeded { warnings } => {
                            ("succeeded", None, None, warnings, 0, Some(now), Some(1.0))
                        }
                        Outcome::Failed { error } => {
                            ("failed", Some(error), None, vec![], 0, Some(now), None)
                        }
                        Outcome::Retry { error, run_after } => (
                            "retrying",
                            Some(error),
                            Some(run_after),
                            vec![],
                            0,
                            None,
                            None,
                        ),
                        Outcome::Cancelled => ("cancelled", None, None, vec![], 0, Some(now), None),
                        Outcome::Released => ("queued", None, Some(now), vec![], -1, None, Some(0.0)),
                    };
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query(&format!(
                    "UPDATE jobs SET state = $1, error = $2, run_after = COALESCE($3, run_after), \
                     warnings = $4, attempts = attempts + $5, finished_at = $6, \
                     progress = COALESCE($7, progress), lease_token = NULL, lease_expires_at = NULL, \
                     updated_at = $8 \
                     WHERE id = $9 AND lease_token = $10 AND state = 'running' RETURNING {JOB_COLUMNS}"
                ))
                .bind(state)
                .bind(error)
                .bind(run_after)
                .bind(Value::from(warnings).to_string())
                .bind(attempts_delta)
                .bind(finished_at)
                .bind(progress)
                .bind(now)
                .bind(job_id)
                .bind(&lease.0)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(false);
                };
                let job = job_from_row(&row)?;
                if job.state == JobState::Succeeded {
                    // Watchers see progress reach 1 before the end, in this
                    // same transaction (the worker writes no last beat).
                    let data = json!({ "progress": 1.0, "stage": job.stage });
                    insert_event(&mut tx, job_id, "progress", &data).await?;
                }
                insert_event(&mut tx, job_id, "state", &state_event(&job)).await?;
                enqueue_job_end(&mut tx, &job).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn request_cancel(&self, job_id: &str) -> StoreResult<Option<JobRecord>> {
                let now = now_ms();
                let mut tx = self.pool.begin().await?;
                let cancelled = sqlx::query(&format!(
                    "UPDATE jobs SET state = 'cancelled', finished_at = $1, updated_at = $2 \
                     WHERE id = $3 AND state IN ('queued', 'retrying') RETURNING {JOB_COLUMNS}"
                ))
                .bind(now)
                .bind(now)
                .bind(job_id)
                .fetch_optional(&mut *tx)
                .await?;
                let job = match cancelled {
                    Some(row) => {
                        let job = job_from_row(&row)?;
                        insert_event(&mut tx, job_id, "state", &state_event(&job)).await?;
                        enqueue_job_end(&mut tx, &job).await?;
                        Some(job)
                    }
                    None => {
                        let row = sqlx::query(&format!(
                            "UPDATE jobs SET cancel_requested = CASE WHEN state = 'running' THEN 1 \
                             ELSE cancel_requested END WHERE id = $1 RETURNING {JOB_COLUMNS}"
                        ))
                        .bind(job_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        row.as_ref().map(job_from_row).transpose()?
                    }
                };
                tx.commit().await?;
                Ok(job)
            }

            async fn reap_expired_leases(&self) -> StoreResult<Vec<String>> {
                let now = now_ms();
                let expired: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < $1",
                )
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                let mut reaped = Vec::new();
                for job_id in expired {
                    let mut tx = self.pool.begin().await?;
                    let row = sqlx::query(&format!(
                        "UPDATE jobs SET \
                           state = CASE WHEN cancel_requested = 1 THEN 'cancelled' \
                                        WHEN attempts >= max_attempts THEN 'failed' \
                                        ELSE 'retrying' END, \
                           error = CASE WHEN cancel_requested = 1 THEN NULL \
                                        ELSE 'the worker running this job stopped responding' END, \
                           finished_at = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts \
                                              THEN $1 ELSE NULL END, \
                           run_after = $2, lease_token = NULL, lease_expires_at = NULL, updated_at = $3 \
                         WHERE id = $4 AND state = 'running' AND lease_expires_at < $5 \
                         RETURNING {JOB_COLUMNS}"
                    ))
                    .bind(now)
                    .bind(now)
                    .bind(now)
                    .bind(&job_id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(row) = row {
                        let job = job_from_row(&row)?;
                        insert_event(&mut tx, &job_id, "state", &state_event(&job)).await?;
                        enqueue_job_end(&mut tx, &job).await?;
                        announce_new_job(&mut tx).await?;
                        reaped.push(job_id);
                    }
                    tx.commit().await?;
                }
                Ok(reaped)
            }

            async fn delete_job(&self, job_id: &str) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for table_and_key in [
                    "DELETE FROM job_events WHERE job_id = $1",
                    "DELETE FROM artifacts WHERE job_id = $1",
                    "DELETE FROM jobs WHERE id = $1",
                ] {
                    sqlx::query(table_and_key)
                        .bind(job_id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn count_jobs(&self) -> StoreResult<Vec<JobCount>> {
                let rows =
                    sqlx::query("SELECT pipeline, state, COUNT(*) AS n FROM jobs GROUP BY pipeline, state")
                        .fetch_all(&self.pool)
                        .await?;
                rows.iter()
                    .map(|row| {
                        let state: String = row.try_get("state")?;
                        Ok(JobCount {
                            pipeline: row.try_get("pipeline")?,
                            state: JobState::parse(&state)
                                .ok_or_else(|| StoreError::Corrupt(format!("unknown state {state:?}")))?,
                            count: row.try_get("n")?,
                        })
                    })
                    .collect()
            }

            async fn events_after(
                &self,
                job_id: &str,
                after_id: i64,
                limit: i64,
            ) -> StoreResult<Vec<JobEvent>> {
                let rows = sqlx::query(
                    "SELECT id, job_id, kind, data, created_at FROM job_events \
                     WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                )
                .bind(job_id)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(event_from_row).collect()
            }

            async fn put_artifact(
                &self,
                artifact: &ArtifactRecord,
                lease: &LeaseToken,
            ) -> StoreResult<bool> {
                let done = sqlx::query(&format!(
                    "INSERT INTO artifacts ({ARTIFACT_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7 \
                     WHERE EXISTS (SELECT 1 FROM jobs WHERE id = $8 AND lease_token = $9 AND state = 'running') \
                     ON CONFLICT (job_id, name) DO UPDATE SET blob_key = excluded.blob_key, \
                     content_type = excluded.content_type, size = excluded.size, \
                     sha256 = excluded.sha256, created_at = excluded.created_at"
                ))
                .bind(&artifact.job_id)
                .bind(&artifact.name)
                .bind(&artifact.blob_key)
                .bind(&artifact.content_type)
                .bind(artifact.size)
                .bind(&artifact.sha256)
                .bind(artifact.created_at)
                .bind(&artifact.job_id)
                .bind(&lease.0)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn list_artifacts(&self, job_id: &str) -> StoreResult<Vec<ArtifactRecord>> {
                let rows = sqlx::query(&format!(
                    "SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE job_id = $1 ORDER BY name"
                ))
                .bind(job_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(artifact_from_row).collect()
            }

            async fn get_artifact(&self, job_id: &str, name: &str) -> StoreResult<Option<ArtifactRecord>> {
                let row = sqlx::query(&format!(
                    "SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE job_id = $1 AND name = $2"
                ))
                .bind(job_id)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(artifact_from_row).transpose()
            }

            async fn announce_worker(&self, worker: &WorkerRecord) -> StoreResult<()> {
                sqlx::query(&format!(
                    "INSERT INTO workers ({WORKER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, \
                     pipelines = excluded.pipelines, concurrency = excluded.concurrency"
                ))
                .bind(&worker.id)
                .bind(&worker.host)
                .bind(worker.pid)
                .bind(Value::from(worker.pipelines.clone()).to_string())
                .bind(worker.concurrency)
                .bind(&worker.version)
                .bind(worker.started_at)
                .bind(worker.last_seen_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn forget_worker(&self, id: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM workers WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn list_workers(&self, since: i64) -> StoreResult<Vec<WorkerRecord>> {
                let rows = sqlx::query(&format!(
                    "SELECT {WORKER_COLUMNS} FROM workers WHERE last_seen_at >= $1 ORDER BY id"
                ))
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(worker_from_row).collect()
            }

            async fn queue_stats(&self) -> StoreResult<Vec<QueueStat>> {
                let rows = sqlx::query(
                    "SELECT pipeline, state, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs \
                     WHERE state IN ('queued', 'retrying', 'running') \
                     GROUP BY pipeline, state ORDER BY pipeline, state",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(queue_stat_from_row).collect()
            }

            async fn take_artifacts(&self, job_id: &str) -> StoreResult<Vec<ArtifactRecord>> {
                let rows = sqlx::query(&format!(
                    "DELETE FROM artifacts WHERE job_id = $1 RETURNING {ARTIFACT_COLUMNS}"
                ))
                .bind(job_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(artifact_from_row).collect()
            }

            $($extra)*
        }
    };
}
pub(crate) use shared_store;
