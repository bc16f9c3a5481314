//! An API node and worker nodes sharing PostgreSQL and storage (a directory,
//! or a real S3 server), as real processes; a worker killed mid-job loses
//! nothing.

use std::time::Duration;

use serde_json::json;

use reqwest::StatusCode;

use crate::harness::{self, expect, s3_keys, s3_storage_url, Server, TestDatabase};

/// Makes an admin account on the cluster's database with the CLI.
fn create_admin(api: &Server, email: &str, database_url: &str) {
    harness::create_admin(
        &api.data_dir,
        email,
        "an operator password",
        &["--database-url", database_url],
    );
}

#[tokio::test]
async fn api_and_worker_nodes_on_postgres_survive_a_killed_worker() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("shared-blobs");
    let blobs = blobs.to_str().unwrap();
    let shared = [
        "--database-url",
        database.url.as_str(),
        "--storage-url",
        blobs,
        "--jwt-secret",
        "a-shared-secret-for-every-node",
        "--lease-ttl-s",
        "4",
    ];
    let with = |extra: &[&'static str]| [&shared[..], extra].concat();
    let api = Server::start_in(&dir.path().join("api"), &with(&["--workers", "0"]));
    let mut first = Server::start_worker(&dir.path().join("w1"), &with(&["--workers", "1"]));
    let client = api.user("sam@example.com").await;

    let mut ids = Vec::new();
    for _ in 0..4 {
        let job = client
            .submit(json!({"pipeline": "sleep", "params": {"seconds": 1.5}}))
            .await;
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    client
        .wait_until(&ids[0], Duration::from_secs(30), |job| {
            job["state"] == "running" && job["progress"].as_f64().unwrap() > 0.1
        })
        .await;
    first.kill();
    let _second = Server::start_worker(&dir.path().join("w2"), &with(&["--workers", "2"]));

    for id in &ids {
        let job = client.wait_ended(id).await;
        assert_eq!(job["state"], "succeeded", "{job:#}");
        assert_eq!(job["artifacts"].as_array().unwrap().len(), 1);
    }
    let first_job = client.job(&ids[0]).await;
    assert_eq!(first_job["attempts"], 2);

    // The admin sees the worker nodes (the killed one until its announcements
    // lapse) and an empty queue.
    let mut admin = api.client();
    create_admin(&api, "ops@example.com", &database.url);
    admin.login("ops@example.com", "an operator password").await;
    let workers = expect(admin.get("/v1/admin/workers").await, StatusCode::OK).await;
    let second = workers["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["concurrency"] == 2)
        .unwrap_or_else(|| panic!("the second worker is missing: {workers}"));
    assert!(second["pipelines"]
        .as_array()
        .unwrap()
        .contains(&json!("sleep")));
    let queue = expect(admin.get("/v1/admin/queue").await, StatusCode::OK).await;
    assert_eq!(queue["queue"], json!([]));
    expect(client.get("/v1/admin/workers").await, StatusCode::FORBIDDEN).await;
    drop(api);
    database.drop().await;
}

/// Settings every node of a cluster shares, with leases short enough that
/// a killed worker's jobs move on within seconds.
fn fast_failover<'a>(database_url: &'a str, storage_url: &'a str) -> [&'a str; 10] {
    [
        "--database-url",
        database_url,
        "--storage-url",
        storage_url,
        "--jwt-secret",
        "a-shared-secret-for-every-node",
        "--lease-ttl-s",
        "2",
        "--retry-base-s",
        "0.2",
    ]
}

#[tokio::test]
async fn two_hundred_jobs_on_postgres_and_s3_survive_workers_killed_at_random() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let storage = s3_storage_url("faults");
    let shared = fast_failover(&database.url, &storage);
    let with = |extra: &[&'static str]| [&shared[..], &["--max-attempts", "20"], extra].concat();
    let api = Server::start_in(&dir.path().join("api"), &with(&["--workers", "0"]));
    let worker_dir = |n: usize| dir.path().join(format!("worker-{n}"));
    let mut workers: Vec<Server> = (0..3)
        .map(|n| Server::start_worker(&worker_dir(n), &with(&["--workers", "4"])))
        .collect();
    let client = api.user("zoe@example.com").await;

    let ids = client.submit_sleeps(200).await;

    // Every few seconds a random worker dies (SIGKILL) and a new one takes its place.
    let mut rng = rand::thread_rng();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let victim = rand::Rng::gen_range(&mut rng, 0..workers.len());
        workers[victim].kill();
        workers[victim] = Server::start_worker(&worker_dir(victim), &with(&["--workers", "4"]));
    }

    for id in &ids {
        let job = client.wait_ended(id).await;
        assert_eq!(job["state"], "succeeded", "{job:#}");
        let artifacts = job["artifacts"].as_array().unwrap();
        assert_eq!(artifacts.len(), 1, "{job:#}");
    }
    let admin = TestDatabase::admin(&database.url).await;
    let twice: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT job_id FROM job_events \
         WHERE kind = 'state' AND data LIKE '%\"state\":\"succeeded\"%' \
         GROUP BY job_id HAVING COUNT(*) > 1) AS repeated",
    )
    .fetch_one(&admin.0)
    .await
    .unwrap();
    assert_eq!(twice, 0, "some job reached succeeded twice");
    let retried: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE attempts > 1")
        .fetch_one(&admin.0)
        .await
        .unwrap();
    assert!(retried > 0, "no worker was killed mid-job");
    drop(admin);
    // Every job's result is stored exactly once, killed attempts' leftovers included.
    let keys = s3_keys(&storage).await;
    for id in &ids {
        let results = keys
            .iter()
            .filter(|key| key.contains(&format!("/jobs/{id}/")) && key.ends_with("/result.json"))
            .count();
        assert_eq!(results, 1, "{id}");
    }
    drop(workers);
    drop(api);
    database.drop().await;
}

#[tokio::test]
async fn a_worker_killed_with_ends_waiting_to_be_written_loses_no_job() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let storage = s3_storage_url("pending-ends");
    let shared = fast_failover(&database.url, &storage);
    let with = |extra: &[&'static str]| [&shared[..], extra].concat();
    let api = Server::start_in(&dir.path().join("api"), &with(&["--workers", "0"]));
    // Ends wait a minute for others: the short job's end is held back
    // while the long one runs.
    let mut holding = Server::start_worker(
        &dir.path().join("holding"),
        &with(&["--workers", "2", "--completion-window-ms", "60000"]),
    );
    let client = api.user("yara@example.com").await;
    let long = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 8}}))
        .await;
    client
        .wait_until(
            long["id"].as_str().unwrap(),
            Duration::from_secs(30),
            |job| job["state"] == "running",
        )
        .await;
    let short = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0.2}}))
        .await;
    let short_id = short["id"].as_str().unwrap().to_owned();
    // Its result is stored, its run is over, its end is not written yet.
    client
        .wait_until(&short_id, Duration::from_secs(30), |job| {
            job["state"] == "running" && !job["artifacts"].as_array().unwrap().is_empty()
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting: serde_json::Value = client
        .get(&format!("/v1/jobs/{short_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(waiting["state"], "running", "{waiting:#}");
    holding.kill();

    let _taker = Server::start_worker(&dir.path().join("taker"), &with(&["--workers", "2"]));
    let short = client.wait_ended(&short_id).await;
    assert_eq!(short["state"], "succeeded", "{short:#}");
    assert_eq!(
        short["attempts"], 2,
        "the killed worker's run did not count"
    );
    let long = client.wait_ended(long["id"].as_str().unwrap()).await;
    assert_eq!(long["state"], "succeeded", "{long:#}");
    let admin = TestDatabase::admin(&database.url).await;
    let succeeded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM job_events WHERE job_id = $1 \
         AND kind = 'state' AND data LIKE '%\"state\":\"succeeded\"%'",
    )
    .bind(&short_id)
    .fetch_one(&admin.0)
    .await
    .unwrap();
    assert_eq!(succeeded, 1, "the job reached succeeded once");
    drop(admin);
    let keys = s3_keys(&storage).await;
    let results = keys
        .iter()
        .filter(|key| key.contains(&format!("/jobs/{short_id}/")) && key.ends_with("/result.json"))
        .count();
    assert_eq!(results, 1, "one result, the re-run's");
    drop(api);
    database.drop().await;
}

#[tokio::test]
async fn a_cancel_reaches_a_job_on_another_node_within_a_heartbeat() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let blobs = dir.path().join("shared-blobs");
    // The default lease (30 s): only the heartbeat can bring the cancel in time.
    let shared = [
        "--database-url",
        database.url.as_str(),
        "--storage-url",
        blobs.to_str().unwrap(),
        "--jwt-secret",
        "a-shared-secret-for-every-node",
    ];
    let with = |extra: &[&'static str]| [&shared[..], extra].concat();
    let api = Server::start_in(&dir.path().join("api"), &with(&["--workers", "0"]));
    let _worker = Server::start_worker(&dir.path().join("worker"), &with(&["--workers", "2"]));
    let client = api.user("uma@example.com").await;
    let job = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 60}}))
        .await;
    let job_id = job["id"].as_str().unwrap();
    client
        .wait_until(job_id, Duration::from_secs(30), |job| {
            job["state"] == "running" && job["progress"].as_f64().unwrap() > 0.0
        })
        .await;
    let asked = std::time::Instant::now();
    expect(
        client.post(&format!("/v1/jobs/{job_id}/cancel")).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let job = client
        .wait_until(job_id, Duration::from_secs(5), |job| {
            job["state"] == "cancelled"
        })
        .await;
    assert!(asked.elapsed() < Duration::from_secs(5));
    assert_eq!(job["artifacts"], json!([]));
    drop(api);
    database.drop().await;
}
