//! Batched transitions: a claim of many jobs, one renewal of many leases,
//! one commit of many ends — each fenced job by job.

use super::*;

fn claim_request(pipeline: &str, cap: Option<i64>, limit: usize) -> ClaimRequest {
    ClaimRequest {
        worker_id: "node".to_owned(),
        pipelines: vec![pipeline.to_owned()],
        lease_ttl_ms: 60_000,
        max_running_per_owner: cap,
        limit,
    }
}

fn ids(claimed: &[ClaimedJob]) -> Vec<String> {
    claimed.iter().map(|c| c.job.id.clone()).collect()
}

pub async fn a_batch_claim_takes_what_single_claims_would(store: &dyn Store) {
    let hog = owner(store, "batch-hog@example.com").await;
    let late = owner(store, "batch-late@example.com").await;
    let hogs = queue_jobs(store, &hog, "batch", 4).await;
    let lates = queue_jobs(store, &late, "batch", 1).await;
    assert!(store
        .claim_jobs(&claim_request("batch", None, 0))
        .await
        .unwrap()
        .is_empty());
    let first = store
        .claim_jobs(&claim_request("batch", None, 3))
        .await
        .unwrap();
    // The oldest job, the owner with nothing running, then the oldest left
    // (not the hog's third job, older than the late owner's).
    let mut taken = ids(&first);
    taken.sort();
    let mut expected = vec![hogs[0].clone(), lates[0].clone(), hogs[1].clone()];
    expected.sort();
    assert_eq!(taken, expected);
    let mut leases: Vec<&str> = first.iter().map(|c| c.lease.0.as_str()).collect();
    leases.sort_unstable();
    leases.dedup();
    assert_eq!(leases.len(), 3, "each job has a lease of its own");
    for claimed in &first {
        assert_eq!(claimed.job.state, JobState::Running);
        assert_eq!(states(store, &claimed.job.id).await, ["queued", "running"]);
    }
    // Fewer left than asked for: what is left.
    let rest = store
        .claim_jobs(&claim_request("batch", None, 10))
        .await
        .unwrap();
    assert_eq!(ids(&rest), hogs[2..].to_vec());

    // Under a cap, one batch stops at the cap for each owner.
    let capped = owner(store, "batch-capped@example.com").await;
    let other = owner(store, "batch-other@example.com").await;
    let waiting = queue_jobs(store, &capped, "batch-cap", 3).await;
    let others = queue_jobs(store, &other, "batch-cap", 1).await;
    let taken = store
        .claim_jobs(&claim_request("batch-cap", Some(1), 5))
        .await
        .unwrap();
    assert_eq!(ids(&taken), vec![waiting[0].clone(), others[0].clone()]);
}

pub async fn a_batch_renewal_reports_cancels_and_lost_leases(store: &dyn Store) {
    let owner_id = owner(store, "batch-renew@example.com").await;
    queue_jobs(store, &owner_id, "renew", 4).await;
    let claimed = store
        .claim_jobs(&claim_request("renew", None, 4))
        .await
        .unwrap();
    let [plain, cancelled, stale, reporting] = &claimed[..] else {
        panic!("four jobs claimed, got {}", claimed.len());
    };
    store.request_cancel(&cancelled.job.id).await.unwrap();
    let renewal = |c: &ClaimedJob, progress: Option<(f64, Option<String>)>| LeaseRenewal {
        job_id: c.job.id.clone(),
        lease: c.lease.clone(),
        progress,
    };
    let renewals = vec![
        renewal(plain, None),
        renewal(cancelled, None),
        LeaseRenewal {
            lease: LeaseToken("taken-over".to_owned()),
            ..renewal(stale, None)
        },
        renewal(reporting, Some((0.5, Some("halfway".to_owned())))),
    ];
    let before = store.get_job(&plain.job.id).await.unwrap().unwrap();
    let answers = store.renew_leases(&renewals, 120_000).await.unwrap();
    assert_eq!(
        answers,
        [
            Heartbeat::Renewed,
            Heartbeat::CancelRequested,
            Heartbeat::LeaseLost,
            Heartbeat::Renewed
        ]
    );
    let after = store.get_job(&plain.job.id).await.unwrap().unwrap();
    assert!(after.updated_at >= before.updated_at);
    let reported = store.get_job(&reporting.job.id).await.unwrap().unwrap();
    assert_eq!(reported.progress, 0.5);
    assert_eq!(reported.stage.as_deref(), Some("halfway"));
    let untouched = store.get_job(&plain.job.id).await.unwrap().unwrap();
    assert_eq!(
        untouched.progress, 0.0,
        "a plain renewal records no progress"
    );
    assert!(store.renew_leases(&[], 1000).await.unwrap().is_empty());
}

pub async fn a_batch_end_refuses_a_stale_lease_and_commits_the_rest(store: &dyn Store) {
    let owner_id = owner(store, "batch-end@example.com").await;
    queue_jobs(store, &owner_id, "end", 3).await;
    let claimed = store
        .claim_jobs(&claim_request("end", None, 3))
        .await
        .unwrap();
    let [done, stale, broken] = &claimed[..] else {
        panic!("three jobs claimed, got {}", claimed.len());
    };
    let ends = vec![
        JobEnd {
            job_id: done.job.id.clone(),
            lease: done.lease.clone(),
            outcome: Outcome::Succeeded { warnings: vec![] },
            last_progress: None,
        },
        JobEnd {
            job_id: stale.job.id.clone(),
            lease: LeaseToken("taken-over".to_owned()),
            outcome: Outcome::Succeeded { warnings: vec![] },
            last_progress: None,
        },
        JobEnd {
            job_id: broken.job.id.clone(),
            lease: broken.lease.clone(),
            outcome: Outcome::Failed {
                error: "no good".to_owned(),
            },
            last_progress: Some((0.25, Some("reading".to_owned()))),
        },
    ];
    assert_eq!(store.finish_jobs(ends).await.unwrap(), [true, false, true]);

    let done = store.get_job(&done.job.id).await.unwrap().unwrap();
    assert_eq!((done.state, done.progress), (JobState::Succeeded, 1.0));
    let progress_then_end: Vec<String> = store
        .events_after(&done.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(progress_then_end, ["state", "state", "progress", "state"]);

    let stale = store.get_job(&stale.job.id).await.unwrap().unwrap();
    assert_eq!(
        stale.state,
        JobState::Running,
        "a stale lease writes nothing"
    );
    assert_eq!(states(store, &stale.id).await, ["queued", "running"]);

    let broken = store.get_job(&broken.job.id).await.unwrap().unwrap();
    assert_eq!(broken.state, JobState::Failed);
    assert_eq!(broken.progress, 0.25, "the last progress is kept");
    assert_eq!(broken.stage.as_deref(), Some("reading"));
    assert!(store.finish_jobs(vec![]).await.unwrap().is_empty());
}

pub async fn submissions_committed_together_stand_or_fall_alone(store: &dyn Store) {
    let owner_id = owner(store, "batch-groups@example.com").await;
    let keyed = |key: &str, seconds: u64| NewJob {
        params: json!({"seconds": seconds}),
        ..new_job(&owner_id, Some(key))
    };
    let (first, _) = store.create_job(keyed("group-key", 1)).await.unwrap();
    let answers = store
        .create_job_groups(vec![
            vec![new_job(&owner_id, None)],
            // The same key for a different submission: refused alone.
            vec![keyed("group-key", 2)],
            // The same key for the same submission: the earlier job.
            vec![keyed("group-key", 1)],
            vec![new_job(&owner_id, None), new_job(&owner_id, None)],
            // Several jobs together take no key: refused whole.
            vec![new_job(&owner_id, None), keyed("other-key", 1)],
        ])
        .await
        .unwrap();
    assert_eq!(answers.len(), 5);
    let single = answers[0].as_ref().unwrap();
    assert!(single[0].1, "queued");
    assert!(matches!(answers[1], Err(StoreError::KeyReused { .. })));
    let replay = answers[2].as_ref().unwrap();
    assert_eq!(
        (replay[0].0.id.as_str(), replay[0].1),
        (first.id.as_str(), false)
    );
    assert_eq!(answers[3].as_ref().unwrap().len(), 2);
    assert!(matches!(answers[4], Err(StoreError::Conflict(_))));
    let none_keyed = store
        .job_by_idempotency_key(&owner_id, "other-key")
        .await
        .unwrap();
    assert!(
        none_keyed.is_none(),
        "a refused group leaves nothing behind"
    );
    for queued in [&single[0].0, &answers[3].as_ref().unwrap()[1].0] {
        assert_eq!(states(store, &queued.id).await, ["queued"]);
    }
}
