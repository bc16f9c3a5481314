//! The original frame-extraction service's API, end to end on real footage:
//! account, token, upload with an interval, status polling, the ZIP.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{expect, fixture, Client, Server};

/// `POST /users/` then `POST /auth/token` (the OAuth2 form); a client
/// holding the token.
pub(crate) async fn account(server: &Server, email: &str) -> Client {
    let mut client = server.client();
    let user = expect(
        client
            .post_json(
                "/users/",
                json!({"email": email, "password": "correct horse battery"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(user["email"], email);
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    let token = client
        .http
        .post(format!("{}/auth/token", client.base))
        .form(&[("username", email), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    let token = expect(token, StatusCode::OK).await;
    assert_eq!(token["token_type"], "bearer");
    client.token = Some(token["access_token"].as_str().unwrap().to_owned());
    client
}

/// `POST /videos/upload` of vtest.avi, with `interval` if given.
pub(crate) async fn upload(client: &Client, interval: Option<&str>) -> reqwest::Response {
    let bytes = std::fs::read(fixture("vtest.avi")).unwrap();
    let mut form = Form::new().part("file", Part::bytes(bytes).file_name("vtest.avi"));
    if let Some(interval) = interval {
        form = form.text("interval", interval.to_owned());
    }
    upload_form(client, form).await
}

async fn upload_form(client: &Client, form: Form) -> reqwest::Response {
    client
        .request(reqwest::Method::POST, "/videos/upload")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn video<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

#[tokio::test]
async fn frames_api_uploads_extracts_and_downloads() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::in_process(root.path(), &[]);
    let alice = account(&server, "alice@example.com").await;

    let created = expect(upload(&alice, Some("5")).await, StatusCode::CREATED).await;
    assert_eq!(created["filename"], "vtest.avi");
    assert_eq!(created["status"], "PENDING");
    assert!(created["created_at"].is_string());
    let id = created["id"].as_str().unwrap().to_owned();

    let mut status = String::new();
    for _ in 0..1200 {
        let list = expect(alice.get("/videos/status").await, StatusCode::OK).await;
        status = video(&list, &id)["status"].as_str().unwrap().to_owned();
        if status == "COMPLETED" || status == "FAILED" {
            break;
        }
        assert!(status == "PENDING" || status == "PROCESSING", "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "COMPLETED");

    let zip = alice.get(&format!("/videos/download/{id}")).await;
    assert_eq!(zip.status(), StatusCode::OK);
    let bytes = zip.bytes().await.unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(
        archive.len(),
        16,
        "vtest.avi is 79.5 s: frames at 0, 5, … 75 s"
    );

    // Another user sees neither the video nor its frames.
    let bob = account(&server, "bob@example.com").await;
    expect(
        bob.get(&format!("/videos/download/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let bobs = expect(bob.get("/videos/status").await, StatusCode::OK).await;
    assert_eq!(bobs, json!([]));
}

#[tokio::test]
async fn frames_api_refuses_bad_requests_clearly() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::in_process(root.path(), &["--workers", "0"]);
    let alice = account(&server, "alice@example.com").await;

    for interval in ["0", "-1", "often"] {
        let response = upload(&alice, Some(interval)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains("interval"),
            "{body}"
        );
    }
    let no_token = server.client();
    // A small body: the server refuses before reading, and a client still
    // sending megabytes could see the connection closed under it.
    let tiny = Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("x.avi"));
    assert_eq!(
        upload_form(&no_token, tiny).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        no_token.get("/videos/status").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Not finished yet (no workers): the download says so.
    let created = expect(upload(&alice, None).await, StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap();
    let pending = alice.get(&format!("/videos/download/{id}")).await;
    assert_eq!(pending.status(), StatusCode::CONFLICT);
    expect(
        alice.get("/videos/download/no-such-video").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
