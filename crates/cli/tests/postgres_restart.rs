//! PostgreSQL restarted under a running API node and worker: the API answers
//! 503 while the database is down, then everything resumes and nothing is
//! lost. A test binary of its own, so no other test shares the outage.

// The server tests' harness; this binary uses only part of it.
#[allow(dead_code)]
#[path = "server/harness.rs"]
mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use harness::{expect, Server};

/// The local cluster's version directories (`/etc/postgresql/<version>`).
fn clusters() -> Vec<String> {
    std::fs::read_dir("/etc/postgresql")
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn pg_ctl(action: &str) {
    for version in clusters() {
        let status = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &version, "main", action])
            .status()
            .expect("pg_ctlcluster runs");
        assert!(
            status.success(),
            "pg_ctlcluster {version} main {action} failed"
        );
    }
}

/// Starts PostgreSQL again however the test ends, so later tests find it up.
struct RestartOnDrop;

impl Drop for RestartOnDrop {
    fn drop(&mut self) {
        for version in clusters() {
            let _ = Command::new("pg_ctlcluster")
                .args(["--skip-systemctl-redirect", &version, "main", "start"])
                .status();
        }
    }
}

async fn status_of(client: &harness::Client, path: &str) -> Option<StatusCode> {
    client
        .request(reqwest::Method::GET, path)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()
        .map(|r| r.status())
}

#[tokio::test]
async fn the_api_answers_503_while_postgres_restarts_then_resumes() {
    assert!(
        !clusters().is_empty(),
        "this test restarts the local PostgreSQL cluster, and there is none"
    );
    let admin_url = "postgres://postgres@127.0.0.1:5432/postgres";
    let name = format!("kinoflow_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--workers",
            "2",
            "--database-url",
            &url,
            "--lease-ttl-s",
            "3",
        ],
    );
    let client = server.user("olive@example.com").await;
    let before = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 4}}))
        .await;

    let _restart = RestartOnDrop;
    pg_ctl("stop");
    assert_eq!(
        status_of(&client, "/ready").await,
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    let body = expect(
        client.get("/v1/jobs").await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("database"));
    assert_eq!(status_of(&client, "/health").await, Some(StatusCode::OK));
    pg_ctl("start");

    let deadline = Instant::now() + Duration::from_secs(60);
    while status_of(&client, "/ready").await != Some(StatusCode::OK) {
        assert!(Instant::now() < deadline, "the API did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0.5}}))
        .await;
    for job in [&before, &after] {
        let job = client.wait_ended(job["id"].as_str().unwrap()).await;
        assert_eq!(job["state"], "succeeded", "{job:#}");
    }
    drop(server);
    let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
