//! Listing, pagination, idempotency, multipart and batch submission, and
//! operations routes.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{expect, field_names, fixture, pipeline_names, Server};

#[tokio::test]
async fn jobs_are_listed_filtered_and_paged() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let client = server.user("kim@example.com").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let job = client
            .submit(json!({"pipeline": "sleep", "params": {"seconds": 1}}))
            .await;
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    let first = ids[0].clone();
    client.post(&format!("/v1/jobs/{first}/cancel")).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/jobs?limit=2&cursor={c}"),
            None => "/v1/jobs?limit=2".to_owned(),
        };
        let page = expect(client.get(&path).await, StatusCode::OK).await;
        for job in page["jobs"].as_array().unwrap() {
            seen.push(job["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let cancelled = expect(client.get("/v1/jobs?state=cancelled").await, StatusCode::OK).await;
    assert_eq!(cancelled["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(cancelled["jobs"][0]["id"], first.as_str());
    let probes = expect(client.get("/v1/jobs?pipeline=probe").await, StatusCode::OK).await;
    assert_eq!(probes["jobs"], json!([]));
}

#[tokio::test]
async fn an_idempotency_key_returns_the_first_job() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let client = server.user("leo@example.com").await;
    let submit = || async {
        let response = client
            .request(Method::POST, "/v1/jobs")
            .header("idempotency-key", "order-42")
            .json(&json!({"pipeline": "sleep", "params": {"seconds": 1}}))
            .send()
            .await
            .unwrap();
        expect(response, StatusCode::ACCEPTED).await
    };
    let first = submit().await;
    let second = submit().await;
    assert_eq!(first["id"], second["id"]);
    let listing = expect(client.get("/v1/jobs").await, StatusCode::OK).await;
    assert_eq!(listing["jobs"].as_array().unwrap().len(), 1);
    // The same key from another user is another job.
    let other = server.user("mia@example.com").await;
    let response = other
        .request(Method::POST, "/v1/jobs")
        .header("idempotency-key", "order-42")
        .json(&json!({"pipeline": "sleep"}))
        .send()
        .await
        .unwrap();
    let theirs = expect(response, StatusCode::ACCEPTED).await;
    assert_ne!(theirs["id"], first["id"]);
}

#[tokio::test]
async fn a_job_and_its_file_in_one_multipart_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "1"]);
    let client = server.user("noor@example.com").await;
    let form = Form::new()
        .text("pipeline", "probe")
        .text("params", "{}")
        .part(
            "file",
            Part::bytes(std::fs::read(fixture("vtest.avi")).unwrap()).file_name("vtest.avi"),
        );
    let response = client
        .request(Method::POST, "/v1/jobs")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let job = expect(response, StatusCode::ACCEPTED).await;
    assert!(job["upload_id"].is_string());
    let job = client.wait_ended(job["id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");

    let form = Form::new()
        .text("pipeline", "sleep")
        .text("params", "{not json");
    let response = client
        .request(Method::POST, "/v1/jobs")
        .multipart(form)
        .send()
        .await
        .unwrap();
    expect(response, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn operations_routes_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "1"]);
    let client = server.user("olga@example.com").await;
    let job = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0}}))
        .await;
    client.wait_ended(job["id"].as_str().unwrap()).await;

    let health = expect(client.get("/health").await, StatusCode::OK).await;
    assert_eq!(
        health,
        json!({"status": "online", "message": "Servidor Biomech Operante"})
    );
    let ready = expect(client.get("/ready").await, StatusCode::OK).await;
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["storage"], "ok");
    // ONNX Runtime runs the models where its library is installed, as here.
    assert_eq!(ready["inference"], "onnxruntime");

    let pipelines = expect(client.get("/v1/pipelines").await, StatusCode::OK).await;
    assert_eq!(
        pipeline_names(&pipelines),
        [
            "biomech",
            "emotion",
            "frames",
            "narration",
            "noop",
            "picture",
            "probe",
            "relevance",
            "render",
            "sleep"
        ]
    );
    let sleep = pipelines["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pipeline| pipeline["name"] == "sleep")
        .unwrap();
    assert_eq!(
        sleep["params_schema"]["properties"]["seconds"]["type"],
        "number"
    );

    let metrics = client.get("/metrics").await.text().await.unwrap();
    for line in [
        "kinoflow_jobs{pipeline=\"sleep\",state=\"succeeded\"} 1",
        "kinoflow_queue_depth{pipeline=\"sleep\"} 0",
        "kinoflow_job_run_seconds_count{outcome=\"succeeded\",pipeline=\"sleep\"} 1",
        "kinoflow_http_request_duration_seconds_bucket",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_batch_is_queued_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "2"]);
    let client = server.user("bea@example.com").await;
    let noop = json!({"pipeline": "sleep", "params": {"seconds": 0}});

    let batch = json!({"jobs": vec![noop.clone(); 25]});
    let queued = expect(
        client.post_json("/v1/jobs/batch", batch).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let jobs = queued["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 25);
    for job in jobs {
        let job = client.wait_ended(job["id"].as_str().unwrap()).await;
        assert_eq!(job["state"], "succeeded", "{job:#}");
    }

    // One bad job refuses the whole batch and says which one and why.
    let bad = json!({"pipeline": "sleep", "params": {"seconds": -1}});
    let refused = expect(
        client
            .post_json("/v1/jobs/batch", json!({"jobs": [noop, noop, bad]}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_names(&refused),
        ["jobs[2].params.seconds"],
        "{refused}"
    );
    let unknown = json!({"jobs": [{"pipeline": "nothing"}]});
    let refused = expect(
        client.post_json("/v1/jobs/batch", unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("jobs[0]: unknown pipeline"));
    let listed = expect(client.get("/v1/jobs?limit=200").await, StatusCode::OK).await;
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 25);

    for (body, status) in [
        (json!({"jobs": []}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"jobs": vec![json!({"pipeline": "sleep"}); 1001]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"jobs": "many"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"pipeline": "sleep"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        expect(client.post_json("/v1/jobs/batch", body).await, status).await;
    }
    let anonymous = server.client();
    let batch = json!({"jobs": [{"pipeline": "sleep"}]});
    expect(
        anonymous.post_json("/v1/jobs/batch", batch).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn the_sleep_pipeline_is_offered_only_when_test_pipelines_are_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0", "--test-pipelines", "false"]);
    let client = server.user("lee@example.com").await;
    let pipelines = expect(client.get("/v1/pipelines").await, StatusCode::OK).await;
    assert_eq!(
        pipeline_names(&pipelines),
        [
            "biomech",
            "emotion",
            "frames",
            "narration",
            "picture",
            "probe",
            "relevance",
            "render"
        ]
    );
    let sleep = json!({"pipeline": "sleep", "params": {"seconds": 0}});
    let body = expect(
        client.post_json("/v1/jobs", sleep).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("sleep"),
        "{body}"
    );
}

#[tokio::test]
async fn a_noop_job_succeeds_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "2"]);
    let client = server.user("noor@example.com").await;
    let jobs = expect(
        client
            .post_json(
                "/v1/jobs/batch",
                json!({"jobs": [{"pipeline": "noop"}, {"pipeline": "noop"}, {"pipeline": "noop"}]}),
            )
            .await,
        StatusCode::ACCEPTED,
    )
    .await;
    for job in jobs["jobs"].as_array().unwrap() {
        let ended = client.wait_ended(job["id"].as_str().unwrap()).await;
        assert_eq!(ended["state"], "succeeded", "{ended:#}");
        assert_eq!(ended["progress"], 1.0);
        assert_eq!(ended["artifacts"], json!([]));
    }
    let scratch = dir.path().join("data").join("scratch");
    let made = std::fs::read_dir(&scratch).map_or(0, |entries| entries.count());
    assert_eq!(made, 0, "a noop run makes no scratch directory");
}
