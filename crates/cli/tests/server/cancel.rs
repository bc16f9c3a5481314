//! Cancelling: a queued job at once, a running one within two seconds.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{expect, Server};

#[tokio::test]
async fn a_running_job_is_cancelled_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "1"]);
    let client = server.user("dave@example.com").await;
    let job = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 60}}))
        .await;
    let job_id = job["id"].as_str().unwrap();
    client
        .wait_until(job_id, Duration::from_secs(30), |job| {
            job["state"] == "running" && job["progress"].as_f64().unwrap() > 0.0
        })
        .await;

    let asked = Instant::now();
    let response = client.post(&format!("/v1/jobs/{job_id}/cancel")).await;
    expect(response, StatusCode::ACCEPTED).await;
    let job = client
        .wait_until(job_id, Duration::from_secs(2), |job| {
            job["state"] == "cancelled"
        })
        .await;
    assert!(asked.elapsed() <= Duration::from_secs(2));
    assert_eq!(job["artifacts"], json!([]));

    // An ended job cannot be cancelled again, but it can be deleted.
    let again = client.post(&format!("/v1/jobs/{job_id}/cancel")).await;
    expect(again, StatusCode::CONFLICT).await;
    let delete = client.delete(&format!("/v1/jobs/{job_id}")).await;
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    expect(
        client.get(&format!("/v1/jobs/{job_id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn a_queued_job_is_cancelled_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // No workers: the job stays queued.
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let client = server.user("erin@example.com").await;
    let job = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 1}}))
        .await;
    let job_id = job["id"].as_str().unwrap();
    let response = client.post(&format!("/v1/jobs/{job_id}/cancel")).await;
    let cancelled = expect(response, StatusCode::ACCEPTED).await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(client.job(job_id).await["state"], "cancelled");
    // A running job cannot be deleted before it is cancelled.
    let running = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 1}}))
        .await;
    let delete = client
        .delete(&format!("/v1/jobs/{}", running["id"].as_str().unwrap()))
        .await;
    expect(delete, StatusCode::CONFLICT).await;
}
