//! Sharing the workers: one user's queue does not hold another user's job
//! back, a cap on each user's running jobs, and a time limit on every run.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{expect, refused_start, Client, Server};

/// Submits a `sleep` job of `seconds`; returns its id.
async fn submit_sleep(client: &Client, seconds: f64) -> String {
    let job = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": seconds}}))
        .await;
    job["id"].as_str().unwrap().to_owned()
}

async fn wait_running(client: &Client, id: &str) -> Value {
    client
        .wait_until(id, Duration::from_secs(60), |job| job["state"] == "running")
        .await
}

/// A time of a job's view (`created_at`, `started_at`, …) in ms, if it has it.
fn millis(job: &Value, field: &str) -> Option<i64> {
    let text = job[field].as_str()?;
    Some(
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis(),
    )
}

#[tokio::test]
async fn a_user_with_nothing_running_goes_before_another_users_queue() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "2"]);
    let hog = server.user("hog@example.com").await;
    let late = server.user("late@example.com").await;
    let mut hogs = Vec::new();
    // The two that run first end apart: when both workers free at once, the
    // first user has nothing running either, and their older job rightly wins.
    for seconds in [20.0, 40.0, 20.0, 20.0] {
        hogs.push(submit_sleep(&hog, seconds).await);
    }
    // Alone, the first user has both workers.
    for id in &hogs[..2] {
        wait_running(&hog, id).await;
    }
    let late_id = submit_sleep(&late, 1.0).await;
    let late_job = late.wait_ended(&late_id).await;
    assert_eq!(late_job["state"], "succeeded");
    let submitted = millis(&late_job, "created_at").unwrap();
    let started = millis(&late_job, "started_at").unwrap();
    for id in &hogs[2..] {
        let hog_job = hog.job(id).await;
        // Still waiting when the other user's job came (as the runs
        // ahead of it make sure), and started no earlier than that job.
        let hog_started = millis(&hog_job, "started_at");
        assert!(hog_started.is_none_or(|at| at > submitted), "{hog_job:#}");
        assert!(
            hog_started.is_none_or(|at| at >= started),
            "the first user's waiting job started before the other user's: {hog_job:#}"
        );
    }
}

#[tokio::test]
async fn a_user_at_the_cap_waits_while_another_users_job_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &["--workers", "2", "--max-running-per-user", "1"],
    );
    let capped = server.user("capped@example.com").await;
    let other = server.user("other@example.com").await;
    let long = submit_sleep(&capped, 60.0).await;
    let held = submit_sleep(&capped, 1.0).await;
    wait_running(&capped, &long).await;
    // The free worker takes the other user's job, not the capped user's second.
    let other_id = submit_sleep(&other, 1.0).await;
    assert_eq!(other.wait_ended(&other_id).await["state"], "succeeded");
    assert_eq!(capped.job(&held).await["state"], "queued");
    // The capped user's second job runs once the first has ended.
    let response = capped.post(&format!("/v1/jobs/{long}/cancel")).await;
    expect(response, StatusCode::ACCEPTED).await;
    let held_job = capped.wait_ended(&held).await;
    assert_eq!(held_job["state"], "succeeded");
    let long_job = capped.job(&long).await;
    let held_started = millis(&held_job, "started_at").unwrap();
    let long_finished = millis(&long_job, "finished_at").unwrap();
    assert!(held_started >= long_finished, "{held_job:#} {long_job:#}");
}

#[tokio::test]
async fn a_run_past_its_pipelines_time_limit_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kinoflow.toml");
    std::fs::write(&config, "[max_run_time_s_per_pipeline]\nsleep = 2\n").unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--workers",
            "1",
            "--max-run-time-s",
            "3600",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let client = server.user("slow@example.com").await;
    let id = submit_sleep(&client, 60.0).await;
    let job = client.wait_ended(&id).await;
    assert_eq!(job["state"], "failed", "{job:#}");
    assert_eq!(job["error"], "ran longer than the 2 s limit for sleep");
    assert_eq!(job["attempts"], 1, "a run out of time is not retried");
    assert_eq!(job["artifacts"], json!([]));
    // Shorter runs are untouched.
    let quick = submit_sleep(&client, 0.0).await;
    assert_eq!(client.wait_ended(&quick).await["state"], "succeeded");
}

#[test]
fn a_time_limit_for_an_unknown_pipeline_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kinoflow.toml");
    std::fs::write(&config, "[max_run_time_s_per_pipeline]\nslep = 2\n").unwrap();
    let data = dir.path().join("data");
    let stderr = refused_start(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
        &[],
    );
    assert!(stderr.contains("unknown pipeline \"slep\""), "{stderr}");
}
