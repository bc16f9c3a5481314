//! Bad input gets a clear 4xx with a message: never a 500, never a hang.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{expect, field_names, fixture, Server};

#[tokio::test]
async fn bad_files_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(
        dir.path(),
        &["--workers", "1", "--max-upload-bytes", "100000"],
    );
    let client = server.user("ivan@example.com").await;

    let body = expect(
        client.upload_bytes("empty.mp4", Vec::new()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["error"]["message"], "the uploaded file is empty");

    let body = expect(
        client.upload_bytes("big.bin", vec![7u8; 100_001]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("100000 bytes"));
    // Nothing of the refused uploads is left behind.
    let stored = std::fs::read_dir(server.data_dir.join("blobs/.tmp"))
        .unwrap()
        .count();
    assert_eq!(stored, 0);

    let text = expect(
        client
            .upload_bytes("notes.mp4", b"these are my notes, not a video".to_vec())
            .await,
        StatusCode::CREATED,
    )
    .await;
    let body = expect(
        client
            .post_json(
                "/v1/jobs",
                json!({"pipeline": "probe", "upload_id": text["id"]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("not a readable video: "), "{message}");
    assert!(message.contains("Invalid data found"), "{message}");
    assert!(
        !message.contains(server.data_dir.to_str().unwrap()),
        "leaks a path: {message}"
    );
}

#[tokio::test]
async fn bad_requests_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "1"]);
    let client = server.user("judy@example.com").await;

    let body = expect(
        client
            .post_json("/v1/jobs", json!({"pipeline": "teleport"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("teleport") && message.contains("sleep"),
        "{message}"
    );

    let body = expect(
        client
            .post_json(
                "/v1/jobs",
                json!({"pipeline": "sleep", "params": {"seconds": -1, "fail_times": "twice", "colour": "red"}}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields = field_names(&body);
    assert!(fields.iter().any(|f| f == "params.seconds"), "{body}");
    assert!(fields.iter().any(|f| f == "params.fail_times"), "{body}");
    assert!(fields.iter().any(|f| f == "params"), "{body}");

    let response = client
        .request(Method::POST, "/v1/jobs")
        .header("content-type", "application/json")
        .body("{\"pipeline\": \"sleep\",")
        .send()
        .await
        .unwrap();
    let body = expect(response, StatusCode::BAD_REQUEST).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("malformed JSON"));

    let body = expect(
        client
            .post_json("/v1/jobs", json!({"pipeline": "probe"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("upload_id"));

    let job = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0}}))
        .await;
    let job_id = job["id"].as_str().unwrap();
    client.wait_ended(job_id).await;
    for name in [
        "..%2F..%2Fjwt_secret",
        "..%2Fresult.json",
        ".hidden",
        "%2Fetc%2Fpasswd",
    ] {
        let response = client
            .get(&format!("/v1/jobs/{job_id}/artifacts/{name}"))
            .await;
        expect(response, StatusCode::NOT_FOUND).await;
    }
    let response = client
        .get(&format!("/v1/jobs/{job_id}/artifacts/../../../health"))
        .await;
    assert_ne!(response.status(), StatusCode::OK);

    expect(
        client.get("/v1/jobs?state=sleeping").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect(
        client.get("/v1/jobs?limit=0").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect(client.get("/v1/no-such-route").await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_damaged_video_is_processed_with_a_warning_or_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "1"]);
    let client = server.user("mallet@example.com").await;
    let upload_id = client.upload(&fixture("Megamind_bugy.avi")).await;
    let response = client
        .post_json(
            "/v1/jobs",
            json!({"pipeline": "probe", "upload_id": upload_id}),
        )
        .await;
    match response.status() {
        StatusCode::ACCEPTED => {
            let job: serde_json::Value = response.json().await.unwrap();
            let job = client.wait_ended(job["id"].as_str().unwrap()).await;
            assert_eq!(job["state"], "succeeded", "{job:#}");
        }
        StatusCode::UNPROCESSABLE_ENTITY => {
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(!body["error"]["message"].as_str().unwrap().is_empty());
        }
        other => panic!(
            "a damaged video got {other}: {}",
            response.text().await.unwrap()
        ),
    }
}

#[tokio::test]
async fn oversized_json_bodies_get_413() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let client = server.user("nina@example.com").await;
    let body = json!({"pipeline": "sleep", "name": "x".repeat(2 * 1024 * 1024)}).to_string();
    for path in ["/v1/jobs", "/v1/auth/register", "/v1/api-keys"] {
        // Streamed without a length, so the server reads up to its limit
        // before it answers, as it must for a client that sends no length.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
            .as_bytes()
            .chunks(64 * 1024)
            .map(|chunk| Ok(chunk.to_vec()))
            .collect();
        let response = client
            .request(reqwest::Method::POST, path)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
            .send()
            .await
            .unwrap();
        expect(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    }
}
