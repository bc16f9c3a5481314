//! The store's contract, written once against the `Store` trait so that every
//! backend runs the same checks.

#[path = "contract/batches.rs"]
mod batches;

use kinoflow_store::*;
use serde_json::json;

async fn sqlite() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("test.db"))
        .await
        .unwrap();
    (dir, store)
}

async fn owner(store: &dyn Store, email: &str) -> String {
    store
        .create_user(email, "hash", Role::User)
        .await
        .unwrap()
        .id
}

fn new_job(owner_id: &str, key: Option<&str>) -> NewJob {
    NewJob {
        owner_id: owner_id.to_owned(),
        pipeline: "sleep".to_owned(),
        upload_id: None,
        references: Vec::new(),
        params: json!({"seconds": 1}),
        max_attempts: 2,
        idempotency_key: key.map(str::to_owned),
        notices: JobNotices::default(),
    }
}

fn pipelines() -> Vec<String> {
    vec!["sleep".to_owned()]
}

fn artifact(job_id: &str, name: &str) -> ArtifactRecord {
    ArtifactRecord {
        job_id: job_id.to_owned(),
        name: name.to_owned(),
        blob_key: format!("jobs/{job_id}/{name}"),
        content_type: "application/json".to_owned(),
        size: 2,
        sha256: "00".to_owned(),
        created_at: now_ms(),
    }
}

async fn states(store: &dyn Store, job_id: &str) -> Vec<String> {
    store
        .events_after(job_id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "state")
        .map(|e| e.data["state"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_job_runs_with_events_and_progress(store: &dyn Store) {
    let owner_id = owner(store, "a@example.com").await;
    let (job, created) = store.create_job(new_job(&owner_id, None)).await.unwrap();
    assert!(created);
    assert_eq!(job.state, JobState::Queued);
    assert!(store
        .claim_job("w", &["probe".to_owned()], 30_000, None)
        .await
        .unwrap()
        .is_none());
    let claimed = store
        .claim_job("w", &pipelines(), 30_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, job.id);
    assert_eq!(claimed.job.attempts, 1);
    assert!(store
        .claim_job("w2", &pipelines(), 30_000, None)
        .await
        .unwrap()
        .is_none());

    let beat = store
        .heartbeat(
            &job.id,
            &claimed.lease,
            30_000,
            Some((0.5, Some("halfway".into()))),
        )
        .await
        .unwrap();
    assert_eq!(beat, Heartbeat::Renewed);
    let running = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(
        (running.progress, running.stage.as_deref()),
        (0.5, Some("halfway"))
    );

    assert!(store
        .put_artifact(&artifact(&job.id, "out.json"), &claimed.lease)
        .await
        .unwrap());
    let done = Outcome::Succeeded {
        warnings: vec!["a warning".into()],
    };
    assert!(store
        .finish_job(&job.id, &claimed.lease, done)
        .await
        .unwrap());
    let ended = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(ended.state, JobState::Succeeded);
    assert_eq!(ended.warnings, ["a warning"]);
    assert!(ended.finished_at.is_some());
    assert_eq!(
        states(store, &job.id).await,
        ["queued", "running", "succeeded"]
    );
    let progress = store.events_after(&job.id, 0, 100).await.unwrap();
    assert!(progress
        .iter()
        .any(|e| e.kind == "progress" && e.data["stage"] == "halfway"));
    assert_eq!(store.list_artifacts(&job.id).await.unwrap().len(), 1);

    store.delete_job(&job.id).await.unwrap();
    assert!(store.get_job(&job.id).await.unwrap().is_none());
    assert!(store.events_after(&job.id, 0, 10).await.unwrap().is_empty());
    assert!(store.list_artifacts(&job.id).await.unwrap().is_empty());
}

async fn a_lost_lease_fences_the_old_worker(store: &dyn Store) {
    let owner_id = owner(store, "b@example.com").await;
    let (job, _) = store.create_job(new_job(&owner_id, None)).await.unwrap();
    // A lease that is already over, as if the worker had stopped heartbeating.
    let stale = store
        .claim_job("old", &pipelines(), -1, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.reap_expired_leases().await.unwrap(),
        vec![job.id.clone()]
    );
    let retrying = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(retrying.state, JobState::Retrying);
    let fresh = store
        .claim_job("new", &pipelines(), 30_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.job.attempts, 2);

    let beat = store
        .heartbeat(&job.id, &stale.lease, 30_000, None)
        .await
        .unwrap();
    assert_eq!(beat, Heartbeat::LeaseLost);
    assert!(!store
        .put_artifact(&artifact(&job.id, "x.json"), &stale.lease)
        .await
        .unwrap());
    let stale_end = Outcome::Failed {
        error: "stale".into(),
    };
    assert!(!store
        .finish_job(&job.id, &stale.lease, stale_end)
        .await
        .unwrap());
    let done = Outcome::Succeeded { warnings: vec![] };
    assert!(store.finish_job(&job.id, &fresh.lease, done).await.unwrap());
    assert_eq!(
        store.get_job(&job.id).await.unwrap().unwrap().state,
        JobState::Succeeded
    );
}

async fn reaping_the_last_attempt_fails_the_job(store: &dyn Store) {
    let owner_id = owner(store, "c@example.com").await;
    let (job, _) = store.create_job(new_job(&owner_id, None)).await.unwrap();
    for _ in 0..2 {
        store
            .claim_job("w", &pipelines(), -1, None)
            .await
            .unwrap()
            .unwrap();
        store.reap_expired_leases().await.unwrap();
    }
    let failed = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.attempts, 2);
    assert!(failed.error.unwrap().contains("stopped responding"));
}

async fn cancel_and_release(store: &dyn Store) {
    let owner_id = owner(store, "d@example.com").await;
    let (queued, _) = store.create_job(new_job(&owner_id, None)).await.unwrap();
    let cancelled = store.request_cancel(&queued.id).await.unwrap().unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);

    let (job, _) = store.create_job(new_job(&owner_id, None)).await.unwrap();
    let claimed = store
        .claim_job("w", &pipelines(), 30_000, None)
        .await
        .unwrap()
        .unwrap();
    let flagged = store.request_cancel(&job.id).await.unwrap().unwrap();
    assert_eq!(flagged.state, JobState::Running);
    assert!(flagged.cancel_requested);
    let beat = store
        .heartbeat(&job.id, &claimed.lease, 30_000, None)
        .await
        .unwrap();
    assert_eq!(beat, Heartbeat::CancelRequested);
    assert!(store
        .finish_job(&job.id, &claimed.lease, Outcome::Cancelled)
        .await
        .unwrap());

    let (job, _) = store.create_job(new_job(&owner_id, None)).await.unwrap();
    let claimed = store
        .claim_job("w", &pipelines(), 30_000, None)
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .finish_job(&job.id, &claimed.lease, Outcome::Released)
        .await
        .unwrap());
    let released = store.get_job(&job.id).await.unwrap().unwrap();
    assert_eq!((released.state, released.attempts), (JobState::Queued, 0));
    assert!(store.request_cancel("no-such-job").await.unwrap().is_none());
}

async fn queued_count(store: &dyn Store) -> i64 {
    let counts = store.count_jobs().await.unwrap();
    counts
        .iter()
        .filter(|c| c.state == JobState::Queued)
        .map(|c| c.count)
        .sum()
}

async fn idempotency_keys_and_listing(store: &dyn Store) {
    let queued_before = queued_count(store).await;
    let owner_id = owner(store, "e@example.com").await;
    let other = owner(store, "f@example.com").await;
    let (first, created) = store
        .create_job(new_job(&owner_id, Some("k1")))
        .await
        .unwrap();
    assert!(created);
    let (again, created) = store
        .create_job(new_job(&owner_id, Some("k1")))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    let (theirs, created) = store.create_job(new_job(&other, Some("k1"))).await.unwrap();
    assert!(created);
    assert_ne!(theirs.id, first.id);
    let (second, _) = store.create_job(new_job(&owner_id, None)).await.unwrap();

    let filter = |before: Option<String>| JobFilter {
        owner_id: Some(owner_id.clone()),
        limit: 1,
        before,
        ..JobFilter::default()
    };
    let page = store.list_jobs(&filter(None)).await.unwrap();
    assert_eq!(page[0].id, second.id);
    let page = store
        .list_jobs(&filter(Some(second.id.clone())))
        .await
        .unwrap();
    assert_eq!(page[0].id, first.id);
    assert_eq!(queued_count(store).await, queued_before + 3);
}

async fn an_idempotency_key_stands_for_one_submission(store: &dyn Store) {
    let owner_id = owner(store, "fingerprint@example.com").await;
    let keyed = |params| NewJob {
        params,
        ..new_job(&owner_id, Some("same-key"))
    };
    let (first, _) = store
        .create_job(keyed(json!({"seconds": 1, "label": "a"})))
        .await
        .unwrap();
    let (again, created) = store
        .create_job(keyed(json!({"label": "a", "seconds": 1})))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id, "the order of keys makes no difference");
    let reused = store
        .create_job(keyed(json!({"seconds": 2, "label": "a"})))
        .await;
    assert!(
        matches!(&reused, Err(StoreError::KeyReused { job_id }) if *job_id == first.id),
        "{reused:?}"
    );
    let found = store
        .job_by_idempotency_key(&owner_id, "same-key")
        .await
        .unwrap();
    assert_eq!(found.map(|job| job.id), Some(first.id));
    assert!(store
        .job_by_idempotency_key(&owner_id, "other-key")
        .await
        .unwrap()
        .is_none());
}

fn upload(owner_id: &str, size: i64) -> UploadRecord {
    let id = uuid::Uuid::now_v7().to_string();
    UploadRecord {
        blob_key: format!("uploads/{id}"),
        id,
        owner_id: owner_id.to_owned(),
        filename: "in.mp4".to_owned(),
        content_type: "video/mp4".to_owned(),
        size,
        sha256: "00".to_owned(),
        created_at: now_ms(),
    }
}

/// The ids of the uploads made before `before` that no live job uses.
async fn unused_ids(store: &dyn Store, before: i64) -> Vec<String> {
    store
        .unused_uploads_before(before, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|upload| upload.id)
        .collect()
}

async fn uploads_go_unless_a_live_job_uses_them(store: &dyn Store) {
    let owner_id = owner(store, "uploads@example.com").await;
    let (used, ended_with, unused) = (
        upload(&owner_id, 10),
        upload(&owner_id, 20),
        upload(&owner_id, 30),
    );
    for record in [&used, &ended_with, &unused] {
        store.insert_upload(record).await.unwrap();
    }
    let on = |upload: &UploadRecord| NewJob {
        pipeline: "uploads".to_owned(),
        upload_id: Some(upload.id.clone()),
        ..new_job(&owner_id, None)
    };
    let (live, _) = store.create_job(on(&used)).await.unwrap();
    let (ended, _) = store.create_job(on(&ended_with)).await.unwrap();
    store.request_cancel(&ended.id).await.unwrap();
    let claimed = store
        .claim_job("w", &["uploads".to_owned()], 30_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, live.id);
    assert!(store
        .put_artifact(&artifact(&live.id, "out.json"), &claimed.lease)
        .await
        .unwrap());
    assert_eq!(
        store.storage_used(&owner_id).await.unwrap(),
        10 + 20 + 30 + 2
    );

    let later = now_ms() + 1;
    let old = unused_ids(store, later).await;
    assert!(old.contains(&ended_with.id) && old.contains(&unused.id));
    assert!(!old.contains(&used.id), "a running job uses it");
    let ended_ids = store.jobs_ended_before(later, 1000).await.unwrap();
    assert!(ended_ids.contains(&ended.id) && !ended_ids.contains(&live.id));

    assert!(matches!(
        store.delete_upload(&used.id).await.unwrap(),
        UploadRemoval::InUse
    ));
    assert!(store.get_upload(&used.id).await.unwrap().is_some());
    let mut found: Vec<String> = store
        .get_uploads(&[used.id.clone(), "nope".to_owned(), unused.id.clone()])
        .await
        .unwrap()
        .into_iter()
        .map(|upload| upload.id)
        .collect();
    found.sort();
    let mut expected = vec![used.id.clone(), unused.id.clone()];
    expected.sort();
    assert_eq!(found, expected);
    assert!(store.get_uploads(&[]).await.unwrap().is_empty());
    let removed = store.delete_upload(&ended_with.id).await.unwrap();
    assert!(matches!(removed, UploadRemoval::Removed(u) if u.blob_key == ended_with.blob_key));
    let ended = store.get_job(&ended.id).await.unwrap().unwrap();
    assert_eq!(ended.upload_id, None, "an ended job no longer names it");
    assert!(matches!(
        store.delete_upload(&ended_with.id).await.unwrap(),
        UploadRemoval::Missing
    ));
    assert_eq!(store.storage_used(&owner_id).await.unwrap(), 10 + 30 + 2);
}

async fn uploads_named_in_parameters_stay_while_the_job_lives(store: &dyn Store) {
    let owner_id = owner(store, "references@example.com").await;
    let (image, music) = (upload(&owner_id, 5), upload(&owner_id, 7));
    for record in [&image, &music] {
        store.insert_upload(record).await.unwrap();
    }
    // Jobs submitted together are inserted by one statement: their
    // references are kept as a single job's are.
    let referring = || NewJob {
        pipeline: "references".to_owned(),
        references: vec![image.id.clone(), music.id.clone(), image.id.clone()],
        ..new_job(&owner_id, None)
    };
    let jobs = store
        .create_jobs(vec![referring(), referring()])
        .await
        .unwrap();
    let (single, _) = store.create_job(referring()).await.unwrap();
    let later = now_ms() + 1;
    let unused = unused_ids(store, later).await;
    assert!(!unused.contains(&image.id) && !unused.contains(&music.id));
    assert!(matches!(
        store.delete_upload(&music.id).await.unwrap(),
        UploadRemoval::InUse
    ));
    for job in jobs.iter().chain([&single]) {
        assert!(matches!(
            store.delete_upload(&music.id).await.unwrap(),
            UploadRemoval::InUse
        ));
        store.request_cancel(&job.id).await.unwrap();
    }
    assert!(matches!(
        store.delete_upload(&music.id).await.unwrap(),
        UploadRemoval::Removed(_)
    ));
    let unused = store.unused_uploads_before(later, 1000).await.unwrap();
    assert!(unused.iter().any(|upload| upload.id == image.id));
}

async fn a_presigned_upload_completes_once(store: &dyn Store) {
    let owner_id = owner(store, "presigned@example.com").await;
    let presigned = PresignedUpload {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: owner_id.clone(),
        filename: "in.mp4".to_owned(),
        content_type: "video/mp4".to_owned(),
        declared_size: 4,
        size_is_limit: true,
        blob_key: "presigned/x/direct".to_owned(),
        expires_at: now_ms() / 1000 + 60,
        received_key: None,
        received_size: None,
        received_sha256: None,
        created_at: now_ms(),
        completed_at: None,
    };
    store.insert_presigned_upload(&presigned).await.unwrap();
    assert!(store
        .record_presigned_content(&presigned.id, "presigned/x/1", 4, "aa")
        .await
        .unwrap());
    let received = store
        .get_presigned_upload(&presigned.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received.received_key.as_deref(), Some("presigned/x/1"));
    assert!(received.size_is_limit, "the kind of size announced is kept");
    let done = UploadRecord {
        id: presigned.id.clone(),
        ..upload(&owner_id, 4)
    };
    assert!(store.complete_presigned_upload(&done).await.unwrap());
    assert!(!store.complete_presigned_upload(&done).await.unwrap());
    assert!(!store
        .record_presigned_content(&presigned.id, "presigned/x/2", 4, "bb")
        .await
        .unwrap());
    let kept = store
        .get_presigned_upload(&presigned.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.received_key.as_deref(), Some("presigned/x/1"));
    assert!(kept.completed_at.is_some());
    assert_eq!(store.get_upload(&done.id).await.unwrap().unwrap().size, 4);

    let expired_before = async |before_s| {
        store
            .expired_presigned_uploads(before_s, 1000)
            .await
            .unwrap()
            .into_iter()
            .any(|p| p.id == presigned.id)
    };
    assert!(!expired_before(now_ms() / 1000).await);
    assert!(expired_before(now_ms() / 1000 + 61).await);
}

async fn users_and_api_keys(store: &dyn Store) {
    let user = store
        .create_user("g@example.com", "h", Role::Admin)
        .await
        .unwrap();
    let taken = store.create_user("g@example.com", "h", Role::User).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))));
    assert_eq!(
        store
            .user_by_email("g@example.com")
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Admin
    );
    let key = store
        .create_api_key(&user.id, "ci", "kf_abc", "hash-1")
        .await
        .unwrap();
    assert_eq!(
        store
            .user_by_api_key_hash("hash-1")
            .await
            .unwrap()
            .unwrap()
            .id,
        user.id
    );
    assert!(!store.revoke_api_key("someone-else", &key.id).await.unwrap());
    assert!(store.revoke_api_key(&user.id, &key.id).await.unwrap());
    assert!(store
        .user_by_api_key_hash("hash-1")
        .await
        .unwrap()
        .is_none());
    assert!(store.list_api_keys(&user.id).await.unwrap()[0]
        .revoked_at
        .is_some());
}

async fn workers_and_queue_stats(store: &dyn Store) {
    let now = now_ms();
    let worker = WorkerRecord {
        id: "host-1-42".into(),
        host: "host-1".into(),
        pid: 42,
        pipelines: pipelines(),
        concurrency: 2,
        version: "test".into(),
        started_at: now,
        last_seen_at: now,
    };
    store.announce_worker(&worker).await.unwrap();
    store
        .announce_worker(&WorkerRecord {
            last_seen_at: now + 5,
            ..worker.clone()
        })
        .await
        .unwrap();
    let seen = store.list_workers(now - 1000).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].last_seen_at, seen[0].concurrency), (now + 5, 2));
    assert!(store.list_workers(now + 10).await.unwrap().is_empty());
    store.forget_worker(&worker.id).await.unwrap();
    assert!(store.list_workers(0).await.unwrap().is_empty());

    let owner_id = owner(store, "q@example.com").await;
    store.create_job(new_job(&owner_id, None)).await.unwrap();
    let stats = store.queue_stats().await.unwrap();
    let queued = stats
        .iter()
        .find(|s| s.pipeline == "sleep" && s.state == JobState::Queued)
        .unwrap();
    assert!(queued.count >= 1);
    assert!(queued.oldest_created_at <= now_ms());
}

async fn jobs_submitted_together_queue_whole_and_in_order(store: &dyn Store) {
    let owner_id = owner(store, "batch@example.com").await;
    let batch_job = || NewJob {
        pipeline: "batch".to_owned(),
        ..new_job(&owner_id, None)
    };
    let jobs = store
        .create_jobs(vec![batch_job(), batch_job(), batch_job()])
        .await
        .unwrap();
    assert_eq!(jobs.len(), 3);
    for job in &jobs {
        assert_eq!(states(store, &job.id).await, ["queued"]);
    }
    // Idempotency keys belong to single submissions: a batch holding one is
    // refused, and none of its jobs is queued.
    let keyed = NewJob {
        idempotency_key: Some("k".to_owned()),
        ..batch_job()
    };
    let refused = store.create_jobs(vec![batch_job(), keyed]).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let batch = vec!["batch".to_owned()];
    for expected in &jobs {
        let claimed = store
            .claim_job("w", &batch, 60_000, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.job.id, expected.id, "claims follow the queue order");
    }
    assert!(store
        .claim_job("w", &batch, 60_000, None)
        .await
        .unwrap()
        .is_none());
}

/// Queues `count` jobs of `pipeline` for `owner_id`, one after the other.
async fn queue_jobs(
    store: &dyn Store,
    owner_id: &str,
    pipeline: &str,
    count: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let job = NewJob {
            pipeline: pipeline.to_owned(),
            ..new_job(owner_id, None)
        };
        ids.push(store.create_job(job).await.unwrap().0.id);
    }
    ids
}

/// Claims a job of `pipeline` under `cap`; its id, or `None` when none is claimable.
async fn claim_id(store: &dyn Store, pipeline: &str, cap: Option<i64>) -> Option<String> {
    let pipelines = [pipeline.to_owned()];
    let claimed = store.claim_job("w", &pipelines, 60_000, cap).await.unwrap();
    claimed.map(|claimed| claimed.job.id)
}

async fn claims_are_fair_across_owners(store: &dyn Store) {
    let hog = owner(store, "hog@example.com").await;
    let late = owner(store, "late@example.com").await;
    let hogs = queue_jobs(store, &hog, "fair", 4).await;
    let lates = queue_jobs(store, &late, "fair", 1).await;
    let claim = || claim_id(store, "fair", None);
    // Nobody runs anything yet: the oldest job goes first.
    assert_eq!(claim().await, Some(hogs[0].clone()));
    // The user with nothing running goes before the older jobs of one with a job running.
    assert_eq!(claim().await, Some(lates[0].clone()));
    // A user alone with work waiting gets every claim, oldest first.
    for expected in &hogs[1..] {
        assert_eq!(claim().await.as_ref(), Some(expected));
    }
    assert_eq!(claim().await, None);
}

async fn a_cap_holds_back_only_the_capped_owner(store: &dyn Store) {
    let capped = owner(store, "capped@example.com").await;
    let other = owner(store, "uncapped@example.com").await;
    let waiting = queue_jobs(store, &capped, "capped", 3).await;
    let cap = Some(2);
    assert_eq!(
        claim_id(store, "capped", cap).await,
        Some(waiting[0].clone())
    );
    assert_eq!(
        claim_id(store, "capped", cap).await,
        Some(waiting[1].clone())
    );
    // Two running: the third waits, though a worker is free.
    assert_eq!(claim_id(store, "capped", cap).await, None);
    // Another user's job is claimed meanwhile.
    let others = queue_jobs(store, &other, "capped", 1).await;
    assert_eq!(
        claim_id(store, "capped", cap).await,
        Some(others[0].clone())
    );
    assert_eq!(claim_id(store, "capped", cap).await, None);
    // Without the cap the third would have gone too.
    assert_eq!(
        claim_id(store, "capped", None).await,
        Some(waiting[2].clone())
    );
}

/// Workers claiming at the same moment (on PostgreSQL, on connections of
/// their own) take each job once and, together, keep to the cap.
async fn simultaneous_claims_take_each_job_once_within_the_cap(store: &dyn Store) {
    let first = owner(store, "rush1@example.com").await;
    let second = owner(store, "rush2@example.com").await;
    let mut queued = queue_jobs(store, &first, "rush", 6).await;
    queued.extend(queue_jobs(store, &second, "rush", 6).await);
    let pipelines = ["rush".to_owned()];
    let claim_together = |workers: usize, cap: Option<i64>| {
        let pipelines = &pipelines;
        futures::future::join_all((0..workers).map(move |n| async move {
            store
                .claim_job(&format!("w{n}"), pipelines, 60_000, cap)
                .await
                .unwrap()
        }))
    };
    let capped: Vec<_> = claim_together(8, Some(3))
        .await
        .into_iter()
        .flatten()
        .collect();
    for user in [&first, &second] {
        let theirs = capped.iter().filter(|c| &c.job.owner_id == user).count();
        assert_eq!(theirs, 3, "claims per user under a cap of 3");
    }
    let rest: Vec<_> = claim_together(12, None)
        .await
        .into_iter()
        .flatten()
        .collect();
    let mut claimed: Vec<_> = capped
        .iter()
        .chain(&rest)
        .map(|c| c.job.id.clone())
        .collect();
    claimed.sort();
    queued.sort();
    assert_eq!(claimed, queued, "every job claimed, none twice");
}

fn endpoint(owner_id: &str, events: &[&str]) -> WebhookEndpoint {
    WebhookEndpoint {
        id: uuid::Uuid::now_v7().to_string(),
        owner_id: owner_id.to_owned(),
        url: "https://example.com/hook".to_owned(),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: "whsec_c2VjcmV0".to_owned(),
        created_at: now_ms(),
    }
}

fn attempt(delivery: &Delivery, succeeded: bool) -> DeliveryAttempt {
    DeliveryAttempt {
        delivery_id: delivery.id.clone(),
        attempt: delivery.attempts,
        started_at: now_ms(),
        duration_ms: 3,
        status_code: Some(if succeeded { 200 } else { 500 }),
        error: (!succeeded).then(|| "the receiver answered 500".to_owned()),
        succeeded,
    }
}

async fn the_outbox_announces_what_happened(store: &dyn Store) {
    let owner_id = owner(store, "outbox@example.com").await;
    let watcher = endpoint(&owner_id, &["job.succeeded", "job.progress"]);
    store.create_webhook(&watcher).await.unwrap();
    store
        .create_webhook(&endpoint(&owner_id, &["job.failed"]))
        .await
        .unwrap();
    let notices = JobNotices {
        callback_url: Some("https://example.com/callback".to_owned()),
        email: Some("outbox@example.com".to_owned()),
    };
    // A pipeline of its own, so that no job left by other checks is claimed.
    let pipeline = "outbox".to_owned();
    let (job, _) = store
        .create_job(NewJob {
            notices: notices.clone(),
            pipeline: pipeline.clone(),
            ..new_job(&owner_id, None)
        })
        .await
        .unwrap();
    assert_eq!(job.notices, notices);
    assert!(store.list_deliveries(&job.id).await.unwrap().is_empty());
    let claimed = store
        .claim_job("w", &[pipeline], 30_000, None)
        .await
        .unwrap()
        .unwrap();
    store
        .heartbeat(&job.id, &claimed.lease, 30_000, Some((0.5, None)))
        .await
        .unwrap();
    assert!(store
        .finish_job(
            &job.id,
            &claimed.lease,
            Outcome::Succeeded { warnings: vec![] }
        )
        .await
        .unwrap());
    let deliveries = store.list_deliveries(&job.id).await.unwrap();
    let made: Vec<(&str, &str, Channel)> = deliveries
        .iter()
        .map(|d| (d.event.as_str(), d.target.as_str(), d.channel))
        .collect();
    assert_eq!(
        made,
        [
            ("job.progress", "https://example.com/hook", Channel::Webhook),
            (
                "job.succeeded",
                "https://example.com/hook",
                Channel::Webhook
            ),
            (
                "job.succeeded",
                "https://example.com/callback",
                Channel::Webhook
            ),
            ("job.succeeded", "outbox@example.com", Channel::Email),
        ]
    );
    assert_eq!(
        deliveries[1].endpoint_id.as_deref(),
        Some(watcher.id.as_str())
    );
    assert_eq!(deliveries[2].endpoint_id, None);
    let payload: serde_json::Value = serde_json::from_str(&deliveries[1].payload).unwrap();
    assert_eq!(payload["type"], "job.succeeded");
    assert_eq!(payload["data"]["id"], job.id);

    // Each due delivery goes to one taker at a time.
    let hold_until = now_ms() + 60_000;
    let taken = store.claim_deliveries(10, hold_until, true).await.unwrap();
    assert_eq!(taken.len(), 4);
    assert!(taken.iter().all(|d| d.attempts == 1));
    assert!(store
        .claim_deliveries(10, hold_until, true)
        .await
        .unwrap()
        .is_empty());
    let first = &taken[0];
    store
        .record_attempt(&attempt(first, false), AfterAttempt::RetryAt(now_ms() - 1))
        .await
        .unwrap();
    let again = store.claim_deliveries(10, hold_until, true).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    // A taker whose hold ran out records nothing over the new one's.
    store
        .record_attempt(&attempt(first, true), AfterAttempt::Delivered)
        .await
        .unwrap();
    store
        .record_attempt(&attempt(&again[0], true), AfterAttempt::Delivered)
        .await
        .unwrap();
    for delivery in &taken[1..] {
        store
            .record_attempt(&attempt(delivery, false), AfterAttempt::GiveUp)
            .await
            .unwrap();
    }
    let attempts = store.list_attempts(&job.id).await.unwrap();
    let of_first: Vec<bool> = attempts
        .iter()
        .filter(|a| a.delivery_id == first.id)
        .map(|a| a.succeeded)
        .collect();
    assert_eq!(of_first, [false, true]);
    for delivery in store.list_deliveries(&job.id).await.unwrap() {
        let expected = if delivery.id == first.id {
            DeliveryState::Delivered
        } else {
            DeliveryState::Failed
        };
        assert_eq!(delivery.state, expected, "{delivery:?}");
    }

    // A redelivery is due again at once.
    assert!(store.redeliver(&job.id, &first.id).await.unwrap());
    assert!(!store.redeliver("other-job", &first.id).await.unwrap());
    assert!(
        !store.redeliver(&job.id, &first.id).await.unwrap(),
        "a pending delivery is not queued twice"
    );
    let redelivered = store.claim_deliveries(10, hold_until, true).await.unwrap();
    assert_eq!(redelivered.len(), 1);
    assert_eq!(redelivered[0].id, first.id);
    assert_eq!(redelivered[0].attempts, 3);

    // A queued job cancelled: its callback hears it, nobody is mailed.
    let (queued, _) = store
        .create_job(NewJob {
            notices,
            ..new_job(&owner_id, None)
        })
        .await
        .unwrap();
    store.request_cancel(&queued.id).await.unwrap();
    let cancelled = store.list_deliveries(&queued.id).await.unwrap();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].event, "job.cancelled");
    assert_eq!(cancelled[0].target, "https://example.com/callback");

    store.delete_job(&job.id).await.unwrap();
    assert!(store.list_deliveries(&job.id).await.unwrap().is_empty());
    assert!(store.list_attempts(&job.id).await.unwrap().is_empty());
}

async fn a_taker_without_mail_leaves_the_mail(store: &dyn Store) {
    let owner_id = owner(store, "mail-later@example.com").await;
    let pipeline = "outbox-mail".to_owned();
    let (job, _) = store
        .create_job(NewJob {
            notices: JobNotices {
                callback_url: Some("https://example.com/callback".to_owned()),
                email: Some("mail-later@example.com".to_owned()),
            },
            pipeline: pipeline.clone(),
            ..new_job(&owner_id, None)
        })
        .await
        .unwrap();
    let claimed = store
        .claim_job("w", &[pipeline], 30_000, None)
        .await
        .unwrap()
        .unwrap();
    let failed = Outcome::Failed {
        error: "no".to_owned(),
    };
    assert!(store
        .finish_job(&job.id, &claimed.lease, failed)
        .await
        .unwrap());
    let hold_until = now_ms() + 60_000;
    let without_mail = store
        .claim_deliveries(100, hold_until, false)
        .await
        .unwrap();
    assert!(without_mail.iter().all(|d| d.channel == Channel::Webhook));
    assert!(without_mail.iter().any(|d| d.job_id == job.id));
    let with_mail = store.claim_deliveries(100, hold_until, true).await.unwrap();
    assert_eq!(with_mail.len(), 1, "only the mail was left: {with_mail:?}");
    assert_eq!(with_mail[0].job_id, job.id);
    assert_eq!(with_mail[0].channel, Channel::Email);
}

async fn a_custom_callback_is_queued_once(store: &dyn Store) {
    let owner_id = owner(store, "custom-callback@example.com").await;
    let (job, _) = store.create_job(new_job(&owner_id, None)).await.unwrap();
    let callback = CustomCallback {
        id: format!("{}.trained", job.id),
        job_id: job.id.clone(),
        owner_id: owner_id.clone(),
        target: "https://example.com/trained".to_owned(),
        event: "training.completed".to_owned(),
        payload: r#"{"model_id":7,"status":"completed"}"#.to_owned(),
    };
    assert!(store.enqueue_callback(&callback).await.unwrap());
    assert!(!store.enqueue_callback(&callback).await.unwrap());
    let queued = store.list_deliveries(&job.id).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].id, callback.id);
    assert_eq!(queued[0].channel, Channel::Webhook);
    assert_eq!(queued[0].endpoint_id, None);
    let taken = store
        .claim_deliveries(100, now_ms() + 60_000, false)
        .await
        .unwrap();
    let ours = taken.iter().find(|d| d.id == callback.id).unwrap();
    assert_eq!(ours.payload, callback.payload);
    assert_eq!(ours.target, callback.target);
}

async fn webhook_endpoints_secrets_and_mail_setting(store: &dyn Store) {
    let owner_id = owner(store, "endpoints@example.com").await;
    let stranger = owner(store, "stranger@example.com").await;
    let hook = endpoint(&owner_id, &["job.failed"]);
    store.create_webhook(&hook).await.unwrap();
    assert_eq!(store.list_webhooks(&owner_id).await.unwrap().len(), 1);
    assert!(store.list_webhooks(&stranger).await.unwrap().is_empty());
    assert!(store
        .set_webhook_secret(&stranger, &hook.id, "whsec_eA==")
        .await
        .unwrap()
        .is_none());
    let rotated = store
        .set_webhook_secret(&owner_id, &hook.id, "whsec_eA==")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.secret, "whsec_eA==");
    assert!(!store.delete_webhook(&stranger, &hook.id).await.unwrap());
    assert!(store.delete_webhook(&owner_id, &hook.id).await.unwrap());
    assert!(store.get_webhook(&hook.id).await.unwrap().is_none());

    assert_eq!(
        store.callback_secret(&owner_id, "first").await.unwrap(),
        "first"
    );
    assert_eq!(
        store.callback_secret(&owner_id, "second").await.unwrap(),
        "first"
    );
    store.set_callback_secret(&owner_id, "third").await.unwrap();
    assert_eq!(
        store.callback_secret(&owner_id, "fourth").await.unwrap(),
        "third"
    );

    let user = store.user_by_id(&owner_id).await.unwrap().unwrap();
    assert!(!user.notify_by_email, "nobody is mailed unless they ask");
    let user = store
        .set_notify_by_email(&owner_id, true)
        .await
        .unwrap()
        .unwrap();
    assert!(user.notify_by_email);
    assert!(
        store
            .user_by_id(&owner_id)
            .await
            .unwrap()
            .unwrap()
            .notify_by_email
    );
    assert!(
        !store
            .user_by_id(&stranger)
            .await
            .unwrap()
            .unwrap()
            .notify_by_email
    );
    assert!(store
        .set_notify_by_email("no-such-user", true)
        .await
        .unwrap()
        .is_none());
}

/// Runs `statement` on the store's database, with `id` for its `$1`.
async fn execute_raw(store: &dyn Store, statement: &str, id: &str) -> Result<u64, sqlx::Error> {
    Ok(match store.extension_database() {
        ExtensionDatabase::Sqlite(pool) => sqlx::query(statement)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected(),
        ExtensionDatabase::Postgres(pool) => sqlx::query(statement)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected(),
    })
}

async fn the_database_refuses_unknown_states(store: &dyn Store) {
    let owner_id = owner(store, "states@example.com").await;
    let (job, _) = store
        .create_job(NewJob {
            notices: JobNotices {
                callback_url: Some("https://example.com/states".to_owned()),
                email: None,
            },
            ..new_job(&owner_id, None)
        })
        .await
        .unwrap();
    let refused = execute_raw(
        store,
        "UPDATE jobs SET state = 'lost' WHERE id = $1",
        &job.id,
    )
    .await;
    assert!(refused.is_err(), "a job took an unknown state");
    store.request_cancel(&job.id).await.unwrap();
    let delivery = &store.list_deliveries(&job.id).await.unwrap()[0];
    let refused = execute_raw(
        store,
        "UPDATE deliveries SET state = 'lost' WHERE id = $1",
        &delivery.id,
    )
    .await;
    assert!(refused.is_err(), "a delivery took an unknown state");
    let known = execute_raw(
        store,
        "UPDATE deliveries SET state = 'failed' WHERE id = $1",
        &delivery.id,
    )
    .await;
    assert_eq!(known.unwrap(), 1);
}

const TALLY_SQLITE: [ExtensionMigration; 2] = [
    ExtensionMigration {
        version: 1,
        description: "tallies",
        sql: "CREATE TABLE compat_tallies (name TEXT PRIMARY KEY, n INTEGER NOT NULL)",
    },
    ExtensionMigration {
        version: 2,
        description: "a first tally",
        sql: "INSERT INTO compat_tallies (name, n) VALUES ('seen', 0)",
    },
];

const TALLY_POSTGRES: [ExtensionMigration; 2] = [
    ExtensionMigration {
        version: 1,
        description: "tallies",
        sql: "CREATE TABLE compat_tallies (name TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    },
    ExtensionMigration {
        version: 2,
        description: "a first tally",
        sql: "INSERT INTO compat_tallies (name, n) VALUES ('seen', 0)",
    },
];

async fn an_extension_keeps_tables_of_its_own(store: &dyn Store) {
    let tally = Extension {
        name: "tally",
        sqlite: &TALLY_SQLITE,
        postgres: &TALLY_POSTGRES,
    };
    store.migrate_extension(&tally).await.unwrap();
    // Applied steps are not applied again (the insert would conflict).
    store.migrate_extension(&tally).await.unwrap();
    let counted = execute_raw(
        store,
        "UPDATE compat_tallies SET n = n + 1 WHERE name = $1",
        "seen",
    )
    .await;
    assert_eq!(counted.unwrap(), 1);
}

/// Browser sessions: found while they last, gone when deleted or expired,
/// and a user keeps at most 20 (the oldest go).
async fn browser_sessions_last_and_are_bounded(store: &dyn Store) {
    let user = owner(store, "sessions@example.com").await;
    let later = kinoflow_store::now_ms() + 60_000;
    store.create_session("expired", &user, 1).await.unwrap();
    for n in 0..25 {
        store
            .create_session(&format!("s{n:02}"), &user, later)
            .await
            .unwrap();
    }
    assert!(store
        .user_by_session_hash("expired")
        .await
        .unwrap()
        .is_none());
    assert!(
        store.user_by_session_hash("s00").await.unwrap().is_none(),
        "the oldest went"
    );
    let newest = store.user_by_session_hash("s24").await.unwrap().unwrap();
    assert_eq!(newest.id, user);
    assert!(store.user_by_session_hash("s05").await.unwrap().is_some());
    store.delete_session("s24").await.unwrap();
    assert!(store.user_by_session_hash("s24").await.unwrap().is_none());
}

/// The dashboard's search: parameters or pipeline, any case, wildcards
/// taken literally; and the dates.
async fn jobs_are_found_by_text_and_date(store: &dyn Store) {
    let user = owner(store, "search@example.com").await;
    let with = |params| NewJob {
        params,
        ..new_job(&user, None)
    };
    let (knee, _) = store
        .create_job(with(json!({"joint": "Knee"})))
        .await
        .unwrap();
    let (percent, _) = store
        .create_job(with(json!({"label": "100%_done"})))
        .await
        .unwrap();
    let found = |search: &str| {
        let filter = JobFilter {
            owner_id: Some(user.clone()),
            search: Some(search.to_owned()),
            limit: 10,
            ..JobFilter::default()
        };
        async move {
            let jobs = store.list_jobs(&filter).await.unwrap();
            jobs.into_iter().map(|job| job.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(found("kNEE").await, [knee.id]);
    assert_eq!(found("0%_d").await, [percent.id.as_str()]);
    assert_eq!(found("%").await, [percent.id], "a % is a percent sign");
    assert_eq!(found("sleep").await.len(), 2, "the pipeline's name too");
    let tomorrow = JobFilter {
        owner_id: Some(user.clone()),
        created_from: Some(kinoflow_store::now_ms() + 86_400_000),
        limit: 10,
        ..JobFilter::default()
    };
    assert!(store.list_jobs(&tomorrow).await.unwrap().is_empty());
}

/// Every check, against one backend.
async fn contract(store: &dyn Store) {
    store.ping().await.unwrap();
    a_job_runs_with_events_and_progress(store).await;
    a_lost_lease_fences_the_old_worker(store).await;
    reaping_the_last_attempt_fails_the_job(store).await;
    cancel_and_release(store).await;
    idempotency_keys_and_listing(store).await;
    an_idempotency_key_stands_for_one_submission(store).await;
    uploads_go_unless_a_live_job_uses_them(store).await;
    uploads_named_in_parameters_stay_while_the_job_lives(store).await;
    a_presigned_upload_completes_once(store).await;
    users_and_api_keys(store).await;
    workers_and_queue_stats(store).await;
    jobs_submitted_together_queue_whole_and_in_order(store).await;
    claims_are_fair_across_owners(store).await;
    batches::a_batch_claim_takes_what_single_claims_would(store).await;
    batches::a_batch_renewal_reports_cancels_and_lost_leases(store).await;
    batches::a_batch_end_refuses_a_stale_lease_and_commits_the_rest(store).await;
    batches::submissions_committed_together_stand_or_fall_alone(store).await;
    a_cap_holds_back_only_the_capped_owner(store).await;
    simultaneous_claims_take_each_job_once_within_the_cap(store).await;
    the_outbox_announces_what_happened(store).await;
    a_taker_without_mail_leaves_the_mail(store).await;
    a_custom_callback_is_queued_once(store).await;
    webhook_endpoints_secrets_and_mail_setting(store).await;
    the_database_refuses_unknown_states(store).await;
    an_extension_keeps_tables_of_its_own(store).await;
    browser_sessions_last_and_are_bounded(store).await;
    jobs_are_found_by_text_and_date(store).await;
}

/// A fresh database on the PostgreSQL server the tests use
/// (`KINOFLOW_TEST_POSTGRES_URL`, default the local server), dropped by `drop_database`.
async fn postgres() -> (String, PostgresStore) {
    let admin_url = std::env::var("KINOFLOW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("kinoflow_test_{}", uuid::Uuid::new_v4().simple());
    let admin = admin_connection(&admin_url).await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let store = PostgresStore::open_url(&format!("{base}/{name}"))
        .await
        .unwrap();
    (name, store)
}

async fn admin_connection(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect(url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {url} ({e}); scripts/test starts it")
    })
}

async fn drop_database(name: &str, store: PostgresStore) {
    drop(store);
    let admin_url = std::env::var("KINOFLOW_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let admin = admin_connection(&admin_url).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn postgres_keeps_the_contract() {
    let (name, store) = postgres().await;
    contract(&store).await;
    drop_database(&name, store).await;
}

#[tokio::test]
async fn postgres_wakes_listeners_when_a_job_is_queued() {
    let (name, store) = postgres().await;
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let watcher = {
        let store = store.clone();
        let wake = wake.clone();
        tokio::spawn(async move { store.watch_new_jobs(wake).await })
    };
    let owner_id = owner(&store, "listen@example.com").await;
    // Keep queueing until the listener (which connects in the background) hears one.
    let woken = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let notified = wake.notified();
            store.create_job(new_job(&owner_id, None)).await.unwrap();
            if tokio::time::timeout(std::time::Duration::from_millis(500), notified)
                .await
                .is_ok()
            {
                return;
            }
        }
    })
    .await;
    watcher.abort();
    assert!(woken.is_ok(), "no NOTIFY reached the listener");
    drop_database(&name, store).await;
}

#[tokio::test]
async fn sqlite_keeps_the_contract() {
    let (_dir, store) = sqlite().await;
    contract(&store).await;
}

#[tokio::test]
async fn sqlite_data_survives_reopening() {
    let (dir, store) = sqlite().await;
    let owner_id = owner(&store, "h@example.com").await;
    let (job, _) = store.create_job(new_job(&owner_id, None)).await.unwrap();
    drop(store);
    let reopened = SqliteStore::open(&dir.path().join("test.db"))
        .await
        .unwrap();
    assert_eq!(states(&reopened, &job.id).await, ["queued"]);
}

/// A database made before job and delivery states were checked keeps its
/// rows, the rows that refer to them and its indexes through the rebuild
/// that adds the checks.
#[tokio::test]
async fn sqlite_rows_and_indexes_survive_the_state_checks() {
    let dir = tempfile::tempdir().unwrap();
    let earlier = dir.path().join("migrations");
    std::fs::create_dir(&earlier).unwrap();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&migrations).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0008" {
            std::fs::copy(&path, earlier.join(&name)).unwrap();
        }
    }
    let database = dir.path().join("old.db");
    let url = format!("sqlite://{}?mode=rwc", database.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(earlier.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    for statement in [
        "INSERT INTO users (id, email, password_hash, role, created_at) \
         VALUES ('u', 'old@example.com', 'hash', 'user', 1)",
        "INSERT INTO jobs (id, owner_id, pipeline, params, state, max_attempts, run_after, \
         created_at, updated_at, callback_url) \
         VALUES ('j', 'u', 'sleep', '{}', 'succeeded', 1, 1, 1, 2, 'https://example.com/old')",
        "INSERT INTO job_events (job_id, kind, data, created_at) \
         VALUES ('j', 'state', '{\"state\":\"succeeded\"}', 2)",
        "INSERT INTO artifacts (job_id, name, blob_key, content_type, size, sha256, created_at) \
         VALUES ('j', 'out.json', 'jobs/j/out.json', 'application/json', 2, '00', 2)",
        "INSERT INTO deliveries (id, job_id, owner_id, channel, target, event, payload, state, \
         attempts, next_attempt_at, give_up_at, created_at, updated_at) \
         VALUES ('d', 'j', 'u', 'webhook', 'https://example.com/old', 'job.succeeded', '{}', \
         'delivered', 1, 2, 3, 2, 2)",
        "INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, succeeded) \
         VALUES ('d', 1, 2, 1, 1)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    let indexes = "SELECT name FROM sqlite_master WHERE type = 'index' \
                   AND tbl_name IN ('jobs', 'deliveries') ORDER BY name";
    let before: Vec<String> = sqlx::query_scalar(indexes).fetch_all(&pool).await.unwrap();
    pool.close().await;

    let store = SqliteStore::open(&database).await.unwrap();
    let job = store.get_job("j").await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!(
        job.notices.callback_url.as_deref(),
        Some("https://example.com/old")
    );
    assert_eq!(states(&store, "j").await, ["succeeded"]);
    assert_eq!(store.list_artifacts("j").await.unwrap().len(), 1);
    assert_eq!(store.list_deliveries("j").await.unwrap().len(), 1);
    assert_eq!(store.list_attempts("j").await.unwrap().len(), 1);
    let ExtensionDatabase::Sqlite(pool) = store.extension_database() else {
        panic!("a SQLite store on another database");
    };
    let after: Vec<String> = sqlx::query_scalar(indexes).fetch_all(pool).await.unwrap();
    assert_eq!(after, before);
}
