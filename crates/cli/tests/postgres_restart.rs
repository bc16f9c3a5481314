//! PostgreSQL restarted under a running cluster (an API node and two worker
//! nodes on PostgreSQL and S3, jobs in flight): the API answers 503 while the
//! database is down, then everything resumes and nothing is lost. A test
//! binary of its own, so no other test shares the outage.

// The server tests' harness; this binary uses only part of it.
#[allow(dead_code)]
#[path = "server/harness.rs"]
mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use harness::{expect, s3_storage_url, Server};

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
    let storage = s3_storage_url("pg-restart");
    let shared = [
        "--database-url",
        url.as_str(),
        "--storage-url",
        storage.as_str(),
        "--jwt-secret",
        "a-shared-secret-for-every-node",
        "--lease-ttl-s",
        "3",
    ];
    let with = |extra: &[&'static str]| [&shared[..], extra].concat();
    let server = Server::start_in(&dir.path().join("api"), &with(&["--workers", "0"]));
    let _workers: Vec<Server> = (0..2)
        .map(|n| {
            Server::start_worker(
                &dir.path().join(format!("w{n}")),
                &with(&["--workers", "3"]),
            )
        })
        .collect();
    let client = server.user("olive@example.com").await;
    let mut ids = client.submit_sleeps(30).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

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
    ids.push(after["id"].as_str().unwrap().to_owned());
    for id in &ids {
        let job = client.wait_ended(id).await;
        assert_eq!(job["state"], "succeeded", "{job:#}");
        assert_eq!(job["artifacts"].as_array().unwrap().len(), 1, "{job:#}");
    }
    let database = sqlx::PgPool::connect(&url).await.unwrap();
    let succeeded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM job_events \
         WHERE kind = 'state' AND data LIKE '%\"state\":\"succeeded\"%'",
    )
    .fetch_one(&database)
    .await
    .unwrap();
    assert_eq!(succeeded, ids.len() as i64, "a job reached succeeded twice");
    database.close().await;
    drop(server);
    let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
