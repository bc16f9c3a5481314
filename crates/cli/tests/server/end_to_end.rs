//! The whole path a user takes: register, token, upload, probe, events, download.

use std::io::Read;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{expect, fixture, Client, Server};

/// Reads the job's event stream until its `end` event; returns (event, data) pairs.
pub async fn read_events(client: &Client, job_id: &str) -> Vec<(String, Value)> {
    let mut response = client.get(&format!("/v1/jobs/{job_id}/events")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut text = String::new();
    let mut events = Vec::new();
    let read_all = async {
        while let Some(chunk) = response.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find("\n\n") {
                let block: String = text.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                events.push((name.clone(), serde_json::from_str(&data).unwrap()));
                if name == "end" {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), read_all)
        .await
        .expect("the event stream ends");
    events
}

#[tokio::test]
async fn probe_a_real_video_from_upload_to_download() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("alice@example.com").await;

    let upload_id = client.upload(&fixture("vtest.avi")).await;
    let upload = expect(
        client.get(&format!("/v1/uploads/{upload_id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(upload["size"], 8131690);
    assert_eq!(upload["filename"], "vtest.avi");

    let response = client
        .post_json(
            "/v1/jobs",
            json!({"pipeline": "probe", "upload_id": upload_id}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let job: Value = response.json().await.unwrap();
    let job_id = job["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/jobs/{job_id}"));

    let events = read_events(&client, job_id).await;
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    let states: Vec<&str> = events
        .iter()
        .filter(|(name, _)| name == "state")
        .map(|(_, data)| data["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["queued", "running", "succeeded"], "{events:?}");
    let progress: Vec<f64> = events
        .iter()
        .filter(|(name, _)| name == "progress")
        .map(|(_, data)| data["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress.last(), Some(&1.0), "{events:?}");
    assert_eq!(names.last(), Some(&"end"));
    let (_, end) = events.last().unwrap();
    assert_eq!(end["state"], "succeeded");
    assert_eq!(end["artifacts"][0]["name"], "probe.json");

    let response = client
        .get(&format!("/v1/jobs/{job_id}/artifacts/probe.json"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let probe: Value = response.json().await.unwrap();
    assert_eq!(probe["width"], 768);
    assert_eq!(probe["height"], 576);
    assert!((probe["frame_rate"].as_f64().unwrap() - 10.0).abs() < 0.01);
    assert!((probe["duration_s"].as_f64().unwrap() - 79.5).abs() < 0.2);
    assert_eq!(probe["frame_count"], 795);

    let response = client.get(&format!("/v1/jobs/{job_id}/archive.zip")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(archive.len(), 1);
    let mut inside = String::new();
    archive
        .by_name("probe.json")
        .unwrap()
        .read_to_string(&mut inside)
        .unwrap();
    let zipped: Value = serde_json::from_str(&inside).unwrap();
    assert_eq!(zipped, probe);
}

#[tokio::test]
async fn artifacts_download_by_range() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("ranger@example.com").await;
    let job_id = &client.probed_job().await;
    let path = format!("/v1/jobs/{job_id}/artifacts/probe.json");
    let whole = client.get(&path).await.bytes().await.unwrap();

    let response = client
        .request(reqwest::Method::GET, &path)
        .header("range", "bytes=2-9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 2-9/{}", whole.len()).as_str()
    );
    assert_eq!(response.bytes().await.unwrap(), whole.slice(2..10));

    let response = client
        .request(reqwest::Method::GET, &path)
        .header("range", "bytes=999999-")
        .send()
        .await
        .unwrap();
    expect(response, StatusCode::RANGE_NOT_SATISFIABLE).await;
}

#[tokio::test]
async fn history_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("carol@example.com").await;
    let upload_id = client.upload(&fixture("vtest.avi")).await;
    let job = client
        .submit(json!({"pipeline": "probe", "upload_id": upload_id}))
        .await;
    let job_id = job["id"].as_str().unwrap().to_owned();
    let before = client.wait_ended(&job_id).await;
    let artifact_before = client
        .get(&format!("/v1/jobs/{job_id}/artifacts/probe.json"))
        .await
        .bytes()
        .await
        .unwrap();
    let events_before = read_events(&client, &job_id).await;
    assert!(server.terminate(), "{}", server.log_text());

    let server = Server::start(dir.path(), &["--workers", "1"]);
    let mut client = server.client();
    client
        .login("carol@example.com", "correct horse battery")
        .await;
    let after = client.job(&job_id).await;
    assert_eq!(after["state"], "succeeded");
    assert_eq!(after["finished_at"], before["finished_at"]);
    expect(
        client.get(&format!("/v1/uploads/{upload_id}")).await,
        StatusCode::OK,
    )
    .await;
    let artifact_after = client
        .get(&format!("/v1/jobs/{job_id}/artifacts/probe.json"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(artifact_before, artifact_after);
    assert_eq!(read_events(&client, &job_id).await, events_before);
}
