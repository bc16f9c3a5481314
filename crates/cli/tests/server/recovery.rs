//! Crashes, retries and shutdowns: jobs are never lost.

use std::time::Duration;

use serde_json::json;

use crate::harness::Server;

#[tokio::test]
async fn a_job_whose_worker_is_killed_runs_again_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let settings = ["--workers", "1", "--lease-ttl-s", "4"];
    let mut first = Server::start_in(&data, &settings);
    let client = first.user("frank@example.com").await;
    let job = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 3}}))
        .await;
    let job_id = job["id"].as_str().unwrap().to_owned();
    client
        .wait_until(&job_id, Duration::from_secs(30), |job| {
            job["state"] == "running" && job["progress"].as_f64().unwrap() > 0.1
        })
        .await;
    first.kill();

    // A second process on the same database and storage takes over once the
    // lease expires.
    let second = Server::start_in(&data, &settings);
    let mut client = second.client();
    client
        .login("frank@example.com", "correct horse battery")
        .await;
    let job = client.wait_ended(&job_id).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");
    assert_eq!(job["attempts"], 2);
    let artifacts = job["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 1);
    assert_eq!(artifacts[0]["name"], "result.json");
    let result: serde_json::Value = client
        .get(&format!("/v1/jobs/{job_id}/artifacts/result.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(result["attempt"], 2);
}

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "2", "--retry-base-s", "0.1"]);
    let client = server.user("grace@example.com").await;
    let flaky = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0.1, "fail_times": 2}}))
        .await;
    let broken = client
        .submit(json!({"pipeline": "sleep",
                       "params": {"fail_permanently": "the input is damaged beyond use"}}))
        .await;

    let flaky = client.wait_ended(flaky["id"].as_str().unwrap()).await;
    assert_eq!(flaky["state"], "succeeded", "{flaky:#}");
    assert_eq!(flaky["attempts"], 3);

    let broken = client.wait_ended(broken["id"].as_str().unwrap()).await;
    assert_eq!(broken["state"], "failed");
    assert_eq!(broken["attempts"], 1);
    assert_eq!(broken["error"], "the input is damaged beyond use");
}

#[tokio::test]
async fn shutdown_gives_unfinished_jobs_back_to_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--workers", "1", "--shutdown-grace-s", "0.5"]);
    let client = server.user("heidi@example.com").await;
    let long = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 60}}))
        .await;
    let job_id = long["id"].as_str().unwrap().to_owned();
    client
        .wait_until(&job_id, Duration::from_secs(30), |job| {
            job["state"] == "running"
        })
        .await;
    assert!(server.terminate(), "{}", server.log_text());

    let server = Server::start(dir.path(), &["--workers", "0"]);
    let mut client = server.client();
    client
        .login("heidi@example.com", "correct horse battery")
        .await;
    let job = client.job(&job_id).await;
    assert_eq!(job["state"], "queued", "{job:#}");
    assert_eq!(job["attempts"], 0);
}
