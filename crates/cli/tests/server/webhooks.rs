//! Webhooks against a real receiver on loopback: Standard Webhooks
//! signatures, retries after failures with every attempt listed, manual
//! redelivery, and the refusal of internal addresses by default.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::{expect, was_attempted, Server};
use crate::receiver::{verifies, Receiver};

/// Registers `url` for `job.succeeded`; returns the new endpoint.
async fn subscribe(client: &crate::harness::Client, url: &str) -> Value {
    expect(
        client
            .post_json(
                "/v1/webhooks",
                json!({"url": url, "events": ["job.succeeded"]}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await
}

fn allow_private_server(root: &std::path::Path) -> Server {
    Server::start(
        root,
        &[
            "--workers",
            "1",
            "--webhook-allow-private",
            "true",
            "--notify-retry-base-s",
            "0.2",
        ],
    )
}

#[tokio::test]
async fn a_receiver_gets_signed_events_and_failures_are_retried() {
    let root = tempfile::tempdir().unwrap();
    let server = allow_private_server(root.path());
    let client = server.user("hooks@example.com").await;
    let (receiver, receiver_base) = Receiver::start().await;

    let endpoint = subscribe(&client, &format!("{receiver_base}/endpoint")).await;
    let endpoint_secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(endpoint_secret.starts_with("whsec_"), "{endpoint}");
    let listed = expect(client.get("/v1/webhooks").await, StatusCode::OK).await;
    assert_eq!(listed["webhooks"][0]["id"], endpoint["id"]);
    assert!(
        listed["webhooks"][0].get("secret").is_none(),
        "listings hide secrets"
    );

    let job = client
        .submit(json!({
            "pipeline": "sleep",
            "params": {"seconds": 0.1},
            "callback_url": format!("{receiver_base}/flaky"),
        }))
        .await;
    let job_id = job["id"].as_str().unwrap();
    assert_eq!(job["callback_url"], format!("{receiver_base}/flaky"));
    client.wait_ended(job_id).await;

    // The endpoint's delivery: signed with the endpoint's secret.
    let delivered = receiver.wait_for("endpoint", 1).await;
    let event = &delivered[0];
    let body: Value = serde_json::from_slice(&event.body).unwrap();
    assert_eq!(body["type"], "job.succeeded");
    assert_eq!(body["data"]["id"], job_id);
    assert_eq!(body["data"]["state"], "succeeded");
    assert!(verifies(&endpoint_secret, event));
    let mut tampered = event.clone();
    tampered.body[2] ^= 1;
    assert!(!verifies(&endpoint_secret, &tampered));

    // The job's own callback: 500, 500, then delivered, under one id, signed
    // with the owner's callback secret.
    let calls = receiver.wait_for("flaky", 3).await;
    assert!(calls.iter().all(|call| call.id == calls[0].id));
    let callback_secret = expect(
        client.get("/v1/webhooks/callback-secret").await,
        StatusCode::OK,
    )
    .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let third = &calls[2];
    assert!(verifies(&callback_secret, third));
    assert!(!verifies(&endpoint_secret, third));

    let callback = client
        .wait_for_delivery(job_id, |d| {
            d["id"] == calls[0].id && d["state"] == "delivered"
        })
        .await;
    let attempts = callback["attempts"].as_array().unwrap();
    let statuses: Vec<i64> = attempts
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200], "{callback:#}");
    assert_eq!(attempts[0]["succeeded"], false);
    assert!(attempts[0]["error"].as_str().unwrap().contains("500"));
    assert_eq!(attempts[2]["succeeded"], true);
    assert_eq!(callback["target"], format!("{receiver_base}/flaky"));

    // Redelivery sends the same message again.
    let path = format!("/v1/jobs/{job_id}/deliveries/{}/redeliver", calls[0].id);
    expect(client.post(&path).await, StatusCode::ACCEPTED).await;
    let calls = receiver.wait_for("flaky", 4).await;
    assert_eq!(calls[3].id, calls[0].id);
    assert_eq!(calls[3].body, calls[0].body);

    // Another user sees none of it.
    let other = server.user("other-hooks@example.com").await;
    expect(
        other.get(&format!("/v1/jobs/{job_id}/deliveries")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let endpoint_id = endpoint["id"].as_str().unwrap();
    expect(
        other.delete(&format!("/v1/webhooks/{endpoint_id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // A rotated secret signs what follows; the old one no longer does.
    let rotated = expect(
        client
            .post(&format!("/v1/webhooks/{endpoint_id}/rotate-secret"))
            .await,
        StatusCode::OK,
    )
    .await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, endpoint_secret);
    let second = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0.1}}))
        .await;
    client.wait_ended(second["id"].as_str().unwrap()).await;
    let delivered = receiver.wait_for("endpoint", 2).await;
    let latest = delivered
        .iter()
        .find(|call| {
            let event: Value = serde_json::from_slice(&call.body).unwrap();
            event["data"]["id"] == second["id"]
        })
        .expect("the second job's event");
    assert!(verifies(&new_secret, latest));
    assert!(!verifies(&endpoint_secret, latest));
    expect(
        client.delete(&format!("/v1/webhooks/{endpoint_id}")).await,
        StatusCode::NO_CONTENT,
    )
    .await;
}

#[tokio::test]
async fn internal_addresses_and_bad_subscriptions_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path(), &["--workers", "1"]);
    let client = server.user("careful@example.com").await;

    for url in [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "http://[::ffff:0:7f00:1]/hook",
        "http://[64:ff9b:1::a00:5]/hook",
        "http://[2001::a00:5]/hook",
    ] {
        let refused = expect(
            client
                .post_json(
                    "/v1/jobs",
                    json!({"pipeline": "sleep", "callback_url": url}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("callback_url") && message.contains("internal address"),
            "{message}"
        );
        expect(
            client
                .post_json(
                    "/v1/webhooks",
                    json!({"url": url, "events": ["job.failed"]}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    for (body, complaint) in [
        (
            json!({"url": "ftp://example.com/x", "events": ["job.failed"]}),
            "http://",
        ),
        (
            json!({"url": "https://example.com/x", "events": []}),
            "at least one",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["job.exploded"]}),
            "unknown event",
        ),
        (json!({"url": "https://example.com/x"}), "events"),
    ] {
        let refused = expect(
            client.post_json("/v1/webhooks", body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let message = refused["error"].to_string();
        assert!(message.contains(complaint), "{message}");
    }
    let refused = expect(
        client
            .post_json(
                "/v1/jobs",
                json!({"pipeline": "sleep", "notify_email": "me@example.com"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("KINOFLOW_SMTP_URL"));
    // Nothing was queued by the refused submissions.
    let jobs = expect(client.get("/v1/jobs").await, StatusCode::OK).await;
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 0);
    expect(
        client.delete("/v1/webhooks/no-such-endpoint").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect(
        server.client().get("/v1/webhooks").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn internal_addresses_are_checked_again_when_delivering() {
    let root = tempfile::tempdir().unwrap();
    let (receiver, receiver_base) = Receiver::start().await;
    let mut trusting = Server::start(
        root.path(),
        &["--workers", "0", "--webhook-allow-private", "true"],
    );
    let client = trusting.user("recheck@example.com").await;
    subscribe(&client, &format!("{receiver_base}/endpoint")).await;
    assert!(trusting.terminate());

    // The operator no longer allows internal addresses: the endpoint stays,
    // but nothing is sent to it.
    let careful = Server::start(root.path(), &["--workers", "1"]);
    let client = crate::harness::Client {
        base: careful.base.clone(),
        ..client
    };
    let job = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0.1}}))
        .await;
    let job_id = job["id"].as_str().unwrap();
    client.wait_ended(job_id).await;
    let delivery = client.wait_for_delivery(job_id, was_attempted).await;
    let error = delivery["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("internal address"), "{error}");
    assert!(delivery["attempts"][0]["status_code"].is_null());
    assert_eq!(
        delivery["state"], "pending",
        "tried again later: {delivery:#}"
    );
    assert!(
        receiver.at("endpoint").is_empty(),
        "nothing reached the receiver"
    );

    // A pending delivery is not queued twice; an unknown one is not found.
    let id = delivery["id"].as_str().unwrap();
    let refused = expect(
        client
            .post(&format!("/v1/jobs/{job_id}/deliveries/{id}/redeliver"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("pending"));
    expect(
        client
            .post(&format!(
                "/v1/jobs/{job_id}/deliveries/no-such-delivery/redeliver"
            ))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
