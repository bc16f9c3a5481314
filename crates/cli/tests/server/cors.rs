//! Browser clients served from another origin (the original services' web
//! front ends): CORS headers for the origins the operator lists, on every
//! route and on errors, and none at all by default.

use reqwest::header::{HeaderMap, ACCESS_CONTROL_ALLOW_ORIGIN};
use reqwest::{Method, StatusCode};

use crate::harness::{refused_start, Server};

const ORIGIN: &str = "http://localhost:5173";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn preflight(server: &Server, path: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(Method::OPTIONS, format!("{}{path}", server.base))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn listed_origins_may_call_every_route_and_see_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let origins = format!("{ORIGIN}, https://app.example.com");
    let server = Server::in_process(dir.path(), &["--cors-origins", &origins]);

    for path in [
        "/v1/me",
        "/processar",
        "/status/whatever",
        "/api/v2/videos/whatever",
        "/machines/",
        "/ranking/?machine_id=1",
        "/socket.io/?EIO=4&transport=polling",
    ] {
        let answer = preflight(&server, path, ORIGIN).await;
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        let headers = answer.headers();
        assert_eq!(header(headers, "access-control-allow-origin"), ORIGIN);
        assert!(header(headers, "access-control-allow-methods").contains("PATCH"));
        let allowed = header(headers, "access-control-allow-headers").to_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    }

    // An error answer carries the header, so the page can read the message.
    let refused = reqwest::Client::new()
        .get(format!("{}/v1/me", server.base))
        .header("Origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(refused.headers(), "access-control-allow-origin"),
        ORIGIN
    );

    // Socket.IO's own answers carry the header too (the web client's socket).
    let handshake = reqwest::Client::new()
        .get(format!(
            "{}/socket.io/?EIO=4&transport=polling",
            server.base
        ))
        .header("Origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), StatusCode::OK);
    assert_eq!(
        header(handshake.headers(), "access-control-allow-origin"),
        ORIGIN
    );

    // Another origin is not allowed.
    let stranger = preflight(&server, "/v1/me", "https://evil.example").await;
    assert!(stranger
        .headers()
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

#[tokio::test]
async fn without_listed_origins_no_cors_header_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &[]);
    let answer = preflight(&server, "/v1/me", ORIGIN).await;
    let cors: Vec<_> = answer
        .headers()
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{cors:?}");
}

#[test]
fn a_malformed_origin_stops_the_node_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let stderr = refused_start(
        &["serve", "--bind", "127.0.0.1:0", "--data-dir", data],
        &[("KINOFLOW_CORS_ORIGINS", "localhost:5173/".as_ref())],
    );
    assert!(stderr.contains("is not an origin"), "{stderr}");
}
