//! Accounts under abuse: what a client sends to log in or register cannot
//! grow the server's memory, floods are refused per client network, an API
//! key cannot make keys, e-mail addresses match however they are spelled,
//! and the files that hold secrets are private. Also `/metrics`, which no
//! client may grow.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use futures::{stream, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{expect, Client, Server};

const MIB: u64 = 1024 * 1024;
const PASSWORD: &str = "correct horse battery";

/// A server without workers that allows `registrations` and `logins` a
/// minute from one client address.
fn server_with_address_limits(dir: &Path, registrations: u32, logins: u32) -> Server {
    let (registrations, logins) = (registrations.to_string(), logins.to_string());
    Server::start(
        dir,
        &[
            "--workers",
            "0",
            "--registrations-per-address-per-minute",
            &registrations,
            "--login-attempts-per-address-per-minute",
            &logins,
        ],
    )
}

/// Asserts that memory went from `before` to less than `limit` above it.
fn assert_grew_less(before: u64, after: u64, limit: u64, context: &str) {
    assert!(
        after < before + limit,
        "memory went from {} MiB to {} MiB ({context})",
        before / MIB,
        after / MIB
    );
}

/// Logs in or registers `email` by one of the four routes that take
/// credentials (`/v1` and the frame-extraction API's), chosen by `route`.
async fn send_credentials(client: &Client, route: usize, email: &str, password: &str) -> Value {
    let request = match route % 4 {
        0 => client
            .request(Method::POST, "/v1/auth/token")
            .json(&json!({"email": email, "password": password})),
        1 => client
            .request(Method::POST, "/auth/token")
            .form(&[("username", email), ("password", password)]),
        2 => client
            .request(Method::POST, "/v1/auth/register")
            .json(&json!({"email": email, "password": password})),
        _ => client
            .request(Method::POST, "/users/")
            .json(&json!({"email": email, "password": password})),
    };
    expect(
        request.send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[tokio::test]
async fn over_long_credentials_are_refused_before_anything_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_address_limits(dir.path(), 100_000, 100_000);
    let client = server.client();
    let padding = "a".repeat(900 * 1024);
    let long_email = |i: usize| format!("{i}{padding}@example.com");
    for route in 0..4 {
        let body = send_credentials(&client, route, &long_email(route), PASSWORD).await;
        assert_eq!(body["error"]["fields"][0]["field"], "email", "{route}");
    }
    let long_password = "p".repeat(2048);
    for route in 0..4 {
        let body = send_credentials(&client, route, "bob@example.com", &long_password).await;
        assert_eq!(body["error"]["fields"][0]["field"], "password", "{route}");
    }

    let (before, _) = server.memory();
    // Each address is new: a limiter that kept what it was sent would hold
    // 900 KB for each.
    stream::iter(0..200)
        .for_each_concurrent(4, |i| {
            let (client, email) = (&client, long_email(i + 4));
            async move {
                send_credentials(client, i, &email, PASSWORD).await;
            }
        })
        .await;
    let (after, _) = server.memory();
    assert_grew_less(before, after, 30 * MIB, "200 over-long attempts");
}

#[tokio::test]
async fn sixty_registrations_at_once_hash_a_few_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_address_limits(dir.path(), 1000, 60);
    let client = server.client();
    client.register("first@example.com", PASSWORD).await;
    let (before, _) = server.memory();

    let statuses = futures::future::join_all((0..60).map(|i| {
        let client = &client;
        async move {
            client
                .post_json(
                    "/v1/auth/register",
                    json!({"email": format!("user{i}@example.com"), "password": PASSWORD}),
                )
                .await
                .status()
        }
    }))
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );

    // Each Argon2 hash takes 19 MiB while it runs; one per core may run.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let (_, peak) = server.memory();
    assert_grew_less(
        before,
        peak,
        (cores * 20 + 64) * MIB,
        &format!("peak, {cores} cores"),
    );
}

#[tokio::test]
async fn registrations_and_logins_are_limited_per_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_address_limits(dir.path(), 2, 3);
    let mut client = server.client();
    client.register("ann@example.com", PASSWORD).await;
    client.register("ben@example.com", PASSWORD).await;
    for path in ["/v1/auth/register", "/users/"] {
        let refused = expect(
            client
                .post_json(
                    path,
                    json!({"email": "cat@example.com", "password": PASSWORD}),
                )
                .await,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
        assert_eq!(refused["error"]["code"], "too_many_attempts", "{path}");
    }

    // Three attempts on three accounts: the fourth is one too many from
    // this address, whichever account it names.
    client.login("ann@example.com", PASSWORD).await;
    client.login("ben@example.com", PASSWORD).await;
    let unknown = json!({"email": "nobody@example.com", "password": PASSWORD});
    expect(
        client.post_json("/v1/auth/token", unknown).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let ann = json!({"email": "ann@example.com", "password": PASSWORD});
    let refused = expect(
        client.post_json("/v1/auth/token", ann).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert_eq!(refused["error"]["code"], "too_many_attempts");
}

#[tokio::test]
async fn an_api_key_cannot_make_api_keys() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "0"]);
    let alice = server.user("alice@example.com").await;
    let key = expect(
        alice.post_json("/v1/api-keys", json!({"name": "ci"})).await,
        StatusCode::CREATED,
    )
    .await;
    let mut script = server.client();
    script.token = Some(key["key"].as_str().unwrap().to_owned());

    let refused = expect(
        script
            .post_json("/v1/api-keys", json!({"name": "forever"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(refused["error"]["code"], "forbidden");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("access token"));
    // The key still does what keys are for.
    expect(script.get("/v1/me").await, StatusCode::OK).await;
    let keys = expect(alice.get("/v1/api-keys").await, StatusCode::OK).await;
    assert_eq!(keys["api_keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn e_mail_addresses_match_in_any_unicode_form_and_case() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "0"]);
    let composed = "jos\u{e9}@example.com";
    let decomposed = "jose\u{301}@example.com";
    let client = server.client();
    client.register(composed, PASSWORD).await;
    for (path, email) in [
        ("/v1/auth/register", decomposed),
        ("/users/", "JOSE\u{301}@EXAMPLE.COM"),
    ] {
        expect(
            client
                .post_json(path, json!({"email": email, "password": PASSWORD}))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
    }
    let mut again = server.client();
    again.login(decomposed, PASSWORD).await;
    let me = expect(again.get("/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["email"], composed);
}

#[tokio::test]
async fn unknown_methods_do_not_grow_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "0"]);
    let client = server.client();
    scrape(&client).await;
    let before = scrape(&client).await.len();

    let mut methods = Vec::new();
    for i in 0..300 {
        let method = format!("M{}", uuid::Uuid::new_v4().simple()).to_uppercase();
        let path = if i % 2 == 0 {
            "/v1/jobs".to_owned()
        } else {
            format!("/nowhere/{i}")
        };
        let response = client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), &path)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{method} {path}");
        methods.push(method);
    }

    let body = scrape(&client).await;
    assert!(
        body.len() < before + 16 * 1024,
        "/metrics grew from {before} to {} bytes",
        body.len()
    );
    assert!(body.contains("method=\"other\""));
    for method in &methods {
        assert!(!body.contains(method.as_str()), "{method} is a label");
    }
    assert!(!body.contains("/nowhere/"), "a raw path is a label");
}

/// The text of `/metrics`.
async fn scrape(client: &Client) -> String {
    let response = client.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_data_directory_and_database_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "0"]);
    // A write, so that the database has its WAL files.
    server.user("alice@example.com").await;
    let data = &server.data_dir;
    assert_eq!(mode(data), 0o700, "{}", data.display());
    for name in [
        "kinoflow.db",
        "kinoflow.db-wal",
        "kinoflow.db-shm",
        "jwt_secret",
    ] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
}
