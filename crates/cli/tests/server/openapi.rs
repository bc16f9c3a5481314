//! `/openapi.json` is a valid OpenAPI 3.1 document that lists every route,
//! the compatible APIs' included.

use crate::harness::{expect, Server};
use reqwest::StatusCode;

const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/auth/register"),
    ("post", "/v1/auth/token"),
    ("get", "/v1/me"),
    ("patch", "/v1/me"),
    ("post", "/v1/api-keys"),
    ("get", "/v1/api-keys"),
    ("delete", "/v1/api-keys/{id}"),
    ("post", "/v1/uploads"),
    ("get", "/v1/uploads/{id}"),
    ("delete", "/v1/uploads/{id}"),
    ("post", "/v1/uploads/presign"),
    ("put", "/v1/uploads/{id}/parts/{number}"),
    ("get", "/v1/uploads/{id}/parts"),
    ("put", "/v1/uploads/{id}/content"),
    ("post", "/v1/uploads/{id}/complete"),
    ("post", "/v1/jobs"),
    ("post", "/v1/jobs/batch"),
    ("get", "/v1/jobs"),
    ("get", "/v1/jobs/{id}"),
    ("delete", "/v1/jobs/{id}"),
    ("post", "/v1/jobs/{id}/cancel"),
    ("get", "/v1/jobs/{id}/events"),
    ("get", "/v1/jobs/{id}/artifacts"),
    ("get", "/v1/jobs/{id}/artifacts/{name}"),
    ("get", "/v1/jobs/{id}/archive.zip"),
    ("post", "/v1/jobs/{id}/links"),
    ("get", "/v1/links/{id}/{name}"),
    ("get", "/v1/jobs/{id}/deliveries"),
    ("post", "/v1/jobs/{id}/deliveries/{delivery_id}/redeliver"),
    ("post", "/v1/webhooks"),
    ("get", "/v1/webhooks"),
    ("delete", "/v1/webhooks/{id}"),
    ("post", "/v1/webhooks/{id}/rotate-secret"),
    ("get", "/v1/webhooks/callback-secret"),
    ("post", "/v1/webhooks/callback-secret/rotate"),
    ("get", "/v1/pipelines"),
    ("get", "/v1/admin/workers"),
    ("get", "/v1/admin/queue"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
    ("post", "/processar"),
    ("get", "/status/{job_id}"),
    ("post", "/cancelar/{job_id}"),
    ("get", "/download-zip/{job_id}"),
    ("get", "/resultados/{job_id}/{name}"),
    ("post", "/users/"),
    ("post", "/auth/token"),
    ("post", "/videos/upload"),
    ("post", "/api/v2/auth/register"),
    ("post", "/api/v2/auth/login"),
    ("get", "/api/v2/auth/profile"),
    ("get", "/api/v2/videos/"),
    ("get", "/api/v2/videos"),
    ("get", "/api/v2/videos/{video_id}"),
    ("patch", "/api/v2/videos/{video_id}"),
    ("post", "/api/v2/videos/{video_id}/stream-name"),
    ("post", "/api/v2/videos/upload"),
    ("post", "/api/v2/videos/upload/initialize"),
    ("post", "/api/v2/videos/upload/finalize"),
    ("get", "/api/v2/videos/stream/{file}"),
    ("post", "/machines/"),
    ("get", "/machines/"),
    ("post", "/machines"),
    ("get", "/machines"),
    ("get", "/machines/{machine_id}"),
    ("delete", "/machines/{machine_id}"),
    ("post", "/models"),
    ("post", "/models/"),
    ("delete", "/models/{model_id}"),
    ("post", "/train/"),
    ("post", "/train"),
    ("get", "/ranking/"),
    ("get", "/ranking"),
    ("post", "/webhook/treinamento/"),
    ("post", "/webhook/treinamento"),
    ("get", "/videos/status"),
    ("get", "/videos/download/{video_id}"),
    ("post", "/api/projects"),
    ("get", "/api/projects"),
    ("get", "/api/projects/{id}"),
    ("patch", "/api/projects/{id}"),
    ("delete", "/api/projects/{id}"),
    ("post", "/api/projects/{id}/lock"),
    ("post", "/api/projects/{id}/unlock"),
    ("post", "/api/scenes"),
    ("patch", "/api/scenes/{id}"),
    ("delete", "/api/scenes/{id}"),
    ("get", "/api/scenes/{id}/media"),
    ("post", "/api/workflow/command"),
    ("get", "/api/workflow/state/{projectId}"),
    ("get", "/api/events/{projectId}"),
    ("post", "/api/ai/generate"),
    ("post", "/api/ai/generate-script"),
    ("post", "/api/render"),
    ("get", "/api/render/{id}"),
    ("post", "/api/webhooks/job-status"),
    ("get", "/api/assets"),
];

#[tokio::test]
async fn the_openapi_document_is_valid_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let document = expect(server.client().get("/openapi.json").await, StatusCode::OK).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));

    let mut listed = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            listed.push((method.clone(), path.clone()));
        }
    }
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected);
    // Each compatible API is grouped under a tag of its own.
    for (path, method, tag) in [
        ("/processar", "post", "biomechanics"),
        ("/videos/upload", "post", "frame-extraction"),
        ("/api/v2/videos/upload", "post", "deepemotion"),
        ("/machines/", "post", "production-variables"),
        ("/api/projects", "post", "shortsai"),
    ] {
        assert_eq!(document["paths"][path][method]["tags"][0], tag, "{path}");
    }

    let file = dir.path().join("openapi.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, json; from openapi_spec_validator import validate; \
             from openapi_spec_validator.validation import OpenAPIV31SpecValidator; \
             validate(json.load(open(sys.argv[1])), cls=OpenAPIV31SpecValidator); print('valid')",
        ])
        .arg(&file)
        .output()
        .expect("python3 runs (scripts/install-test-deps installs the validator)");
    assert!(
        output.status.success(),
        "openapi-spec-validator rejected the document:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
