//! Signed links download without a token until they expire; a changed link is refused.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{expect, sleep_past_expiry, Server};

#[tokio::test]
async fn a_signed_link_downloads_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "1"]);
    let client = server.user("tess@example.com").await;
    let job_id = &client.probed_job().await;
    let links = format!("/v1/jobs/{job_id}/links");

    let link = expect(
        client
            .post_json(&links, json!({"artifact": "probe.json"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&server.base), "{url}");
    let anonymous = reqwest::Client::new();
    let response = anonymous.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let shared = response.bytes().await.unwrap();
    assert_eq!(shared, client.artifact_bytes(job_id, "probe.json").await);

    // Any change to the link breaks it.
    let (unsigned, sig) = url.split_once("&sig=").unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let forged = [
        url.replace("probe.json", "other.json"),
        url.replace("expires=", "expires=9"),
        format!("{unsigned}&sig={flipped}{}", &sig[1..]),
    ];
    for forged in forged {
        let response = anonymous.get(&forged).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{forged}");
    }

    let archive = client.link(job_id, "archive.zip", 60).await;
    let bytes = anonymous
        .get(&archive)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let zipped = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(zipped.len(), 1);

    let short = client.link(job_id, "probe.json", 1).await;
    sleep_past_expiry(&short).await;
    let body = expect(
        anonymous.get(&short).send().await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(body["error"]["message"], "this link has expired");

    // Only the owner makes links, only to what exists, for a sane time.
    let other = server.user("uma@example.com").await;
    expect(
        other
            .post_json(&links, json!({"artifact": "probe.json"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect(
        client
            .post_json(&links, json!({"artifact": "nothing.json"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect(
        client
            .post_json(&links, json!({"artifact": "probe.json", "expires_in_s": 0}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}
