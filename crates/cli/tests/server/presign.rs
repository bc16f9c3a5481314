//! Presigned uploads on local storage: announce, PUT to the signed URL, complete.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{expect, fixture, Server};

#[tokio::test]
async fn a_presigned_upload_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("vic@example.com").await;
    let video = std::fs::read(fixture("vtest.avi")).unwrap();
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&video))
    };

    let presigned = expect(
        client
            .post_json(
                "/v1/uploads/presign",
                json!({"filename": "vtest.avi", "size": video.len(), "content_type": "video/x-msvideo"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(presigned["method"], "PUT");
    let id = presigned["upload_id"].as_str().unwrap();
    let url = presigned["url"].as_str().unwrap();
    let complete = format!("/v1/uploads/{id}/complete");

    let early = client.post_json(&complete, json!({})).await;
    expect(early, StatusCode::UNPROCESSABLE_ENTITY).await;

    let anonymous = reqwest::Client::new();
    let (unsigned, sig) = url.split_once("&sig=").unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    for forged in [
        format!("{unsigned}&sig={flipped}{}", &sig[1..]),
        url.replace("expires=", "expires=1"),
    ] {
        // A small body: the server refuses before reading, and a client still
        // sending megabytes could see the connection closed under it.
        let response = anonymous.put(&forged).body("x").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{forged}");
    }
    let too_much = [video.clone(), vec![0u8; 10]].concat();
    let response = anonymous.put(url).body(too_much).send().await.unwrap();
    expect(response, StatusCode::PAYLOAD_TOO_LARGE).await;

    let response = anonymous.put(url).body(video.clone()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let other = server.user("wes@example.com").await;
    expect(
        other.post_json(&complete, json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let wrong = client.post_json(&complete, json!({"sha256": "00"})).await;
    expect(wrong, StatusCode::UNPROCESSABLE_ENTITY).await;
    let upload = expect(
        client.post_json(&complete, json!({"sha256": sha256})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(upload["size"], video.len());
    assert_eq!(upload["sha256"], sha256.as_str());

    let job = client
        .submit(json!({"pipeline": "probe", "upload_id": id}))
        .await;
    let job = client.wait_ended(job["id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");

    // A file shorter than announced is refused at completion.
    let short = expect(
        client
            .post_json(
                "/v1/uploads/presign",
                json!({"filename": "x.avi", "size": 100}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let response = anonymous
        .put(short["url"].as_str().unwrap())
        .body(vec![1u8; 60])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let path = format!(
        "/v1/uploads/{}/complete",
        short["upload_id"].as_str().unwrap()
    );
    let body = expect(
        client.post_json(&path, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("60 bytes arrived"));
}
