//! Who may see what: owners only; tokens and keys that are bad get 401.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{expect, fixture, Server};

#[tokio::test]
async fn another_user_sees_nothing_of_mine() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "1"]);
    let alice = server.user("alice@example.com").await;
    let mallory = server.user("mallory@example.com").await;

    let upload_id = alice.upload(&fixture("vtest.avi")).await;
    let job = alice
        .submit(json!({"pipeline": "probe", "upload_id": upload_id}))
        .await;
    let job_id = job["id"].as_str().unwrap();
    alice.wait_ended(job_id).await;

    for path in [
        format!("/v1/uploads/{upload_id}"),
        format!("/v1/jobs/{job_id}"),
        format!("/v1/jobs/{job_id}/events"),
        format!("/v1/jobs/{job_id}/artifacts"),
        format!("/v1/jobs/{job_id}/artifacts/probe.json"),
        format!("/v1/jobs/{job_id}/archive.zip"),
    ] {
        let body = expect(mallory.get(&path).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let cancel = mallory.post(&format!("/v1/jobs/{job_id}/cancel")).await;
    expect(cancel, StatusCode::NOT_FOUND).await;
    let delete = mallory.delete(&format!("/v1/jobs/{job_id}")).await;
    expect(delete, StatusCode::NOT_FOUND).await;
    let delete = mallory.delete(&format!("/v1/uploads/{upload_id}")).await;
    expect(delete, StatusCode::NOT_FOUND).await;
    let listing = expect(mallory.get("/v1/jobs").await, StatusCode::OK).await;
    assert_eq!(listing["jobs"], json!([]));
    // Nor can mallory run a job on alice's upload.
    let response = mallory
        .post_json(
            "/v1/jobs",
            json!({"pipeline": "probe", "upload_id": upload_id}),
        )
        .await;
    expect(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    // And alice still has it all.
    expect(
        alice.get(&format!("/v1/jobs/{job_id}")).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn bad_credentials_get_401() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0", "--token-ttl-s", "3"]);
    let mut alice = server.user("alice@example.com").await;
    let anonymous = server.client();

    let body = expect(anonymous.get("/v1/jobs").await, StatusCode::UNAUTHORIZED).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Authorization"));

    let token = alice.token.clone().unwrap();
    let mut tampered = alice.clone();
    let (head, signature) = token.rsplit_once('.').unwrap();
    let (header, payload) = head.split_once('.').unwrap();
    // Swap the payload for another user's id, keeping the old signature.
    let forged_payload =
        base64_url(&json!({"sub": "someone-else", "iat": 0, "exp": 4102444800u64}).to_string());
    tampered.token = Some(format!("{header}.{forged_payload}.{signature}"));
    expect(tampered.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    let mut truncated = alice.clone();
    truncated.token = Some(format!("{header}.{payload}.{}", &signature[1..]));
    expect(truncated.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;

    // An API key works until it is revoked (a fresh token for the few
    // requests that follow, well inside its three seconds).
    alice
        .login("alice@example.com", "correct horse battery")
        .await;
    let key = expect(
        alice.post_json("/v1/api-keys", json!({"name": "ci"})).await,
        StatusCode::CREATED,
    )
    .await;
    let mut script = anonymous.clone();
    script.token = Some(key["key"].as_str().unwrap().to_owned());
    let me = expect(script.get("/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["email"], "alice@example.com");
    let keys = expect(alice.get("/v1/api-keys").await, StatusCode::OK).await;
    assert_eq!(keys["api_keys"][0]["name"], "ci");
    assert!(keys["api_keys"][0].get("key").is_none());
    let revoked = alice
        .delete(&format!("/v1/api-keys/{}", key["id"].as_str().unwrap()))
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    expect(script.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;

    // The access token expires after its lifetime (three seconds here).
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let body = expect(alice.get("/v1/me").await, StatusCode::UNAUTHORIZED).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn login_takes_the_oauth2_form_and_is_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(
        dir.path(),
        &["--workers", "0", "--login-attempts-per-minute", "3"],
    );
    let client = server.client();
    client.register("bob@example.com", "a good password").await;
    let response = client
        .request(Method::POST, "/v1/auth/token")
        .form(&[
            ("username", "bob@example.com"),
            ("password", "a good password"),
        ])
        .send()
        .await
        .unwrap();
    let token = expect(response, StatusCode::OK).await;
    assert_eq!(token["token_type"], "bearer");
    assert!(token["expires_in"].as_u64().unwrap() > 0);

    let wrong = json!({"email": "bob@example.com", "password": "not it at all"});
    let body = expect(
        client.post_json("/v1/auth/token", wrong.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(body["error"]["message"], "wrong e-mail or password");
    expect(
        client.post_json("/v1/auth/token", wrong.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect(
        client.post_json("/v1/auth/token", wrong).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;

    // Registering twice is a conflict; a weak password is named.
    let again = json!({"email": "BOB@example.com", "password": "whatever123"});
    expect(
        client.post_json("/v1/auth/register", again).await,
        StatusCode::CONFLICT,
    )
    .await;
    let weak = json!({"email": "eve@example.com", "password": "short"});
    let body = expect(
        client.post_json("/v1/auth/register", weak).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["error"]["fields"][0]["field"], "password");
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn admin_made_on_the_command_line_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = std::process::Command::new(crate::harness::BIN)
        .args([
            "user",
            "create",
            "--email",
            "root@example.com",
            "--password-stdin",
            "--admin",
            "--data-dir",
        ])
        .arg(&data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"an admin password\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let mut admin = server.client();
    admin.login("root@example.com", "an admin password").await;
    let me: Value = expect(admin.get("/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["role"], "admin");
}
