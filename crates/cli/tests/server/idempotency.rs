//! An `Idempotency-Key` stands for one submission: sent again with it, the
//! first job comes back (and a form's file is not kept twice); with another
//! submission, it is refused.

use reqwest::multipart::Form;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{expect, fixture, Client, Server};
use crate::stored::{upload_rows, Storage};
use crate::upload_cleanup::{file_part, video};

async fn submit_keyed(client: &Client, key: &str, body: Value) -> reqwest::Response {
    client
        .request(Method::POST, "/v1/jobs")
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn submit_form_keyed(client: &Client, key: &str, file: Vec<u8>) -> reqwest::Response {
    let form = Form::new()
        .text("pipeline", "probe")
        .part("file", file_part(file));
    client
        .request(Method::POST, "/v1/jobs")
        .header("Idempotency-Key", key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_key_sent_again_with_another_submission_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let client = server.user("mia@example.com").await;
    let sleep = |params: Value| json!({"pipeline": "sleep", "params": params});

    let first = submit_keyed(
        &client,
        "k-1",
        sleep(json!({"seconds": 1, "fail_times": 0})),
    )
    .await;
    let first = expect(first, StatusCode::ACCEPTED).await;
    let replay = submit_keyed(
        &client,
        "k-1",
        sleep(json!({"fail_times": 0, "seconds": 1})),
    )
    .await;
    let replay = expect(replay, StatusCode::ACCEPTED).await;
    assert_eq!(
        replay["id"], first["id"],
        "the same submission, keys reordered"
    );

    let other = submit_keyed(
        &client,
        "k-1",
        sleep(json!({"seconds": 2, "fail_times": 0})),
    )
    .await;
    let refused = expect(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Idempotency-Key") && message.contains(first["id"].as_str().unwrap()),
        "{message}"
    );
    let elsewhere = submit_keyed(&client, "k-1", json!({"pipeline": "probe"})).await;
    expect(elsewhere, StatusCode::UNPROCESSABLE_ENTITY).await;

    let list = expect(client.get("/v1/jobs").await, StatusCode::OK).await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 1, "{list:#}");
}

#[tokio::test]
async fn a_replayed_form_keeps_its_file_once() {
    for storage in Storage::both("replayed-form") {
        let dir = tempfile::tempdir().unwrap();
        let server = storage.start(&dir.path().join("data"), &["--workers", "0"]);
        let client = server.user("ned@example.com").await;

        let first = expect(
            submit_form_keyed(&client, "form-1", video()).await,
            StatusCode::ACCEPTED,
        )
        .await;
        let replay = expect(
            submit_form_keyed(&client, "form-1", video()).await,
            StatusCode::ACCEPTED,
        )
        .await;
        assert_eq!(replay["id"], first["id"], "{}", storage.name());
        assert_eq!(replay["upload_id"], first["upload_id"]);
        assert_eq!(storage.keys(&server, "uploads").await.len(), 1);
        assert_eq!(upload_rows(&server).await, 1);

        let another_video = std::fs::read(fixture("Megamind_bugy.avi")).unwrap();
        let refused = expect(
            submit_form_keyed(&client, "form-1", another_video).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(refused["error"]["code"], "idempotency_key_reused");
        assert_eq!(storage.keys(&server, "uploads").await.len(), 1);
        assert_eq!(upload_rows(&server).await, 1);
    }
}
