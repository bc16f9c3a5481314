//! Files nobody can delete do not pile up: a form with several files, a
//! refused submission, the compatible APIs' uploads, and uploads deleted by
//! their owners — on local storage and on S3.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{expect, fixture, Client};
use crate::stored::{upload_rows, Storage};

/// A small real video.
pub(crate) fn video() -> Vec<u8> {
    std::fs::read(fixture("messi_zoompan.mp4")).unwrap()
}

pub(crate) fn file_part(bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name("messi_zoompan.mp4")
}

pub(crate) async fn post_form(client: &Client, path: &str, form: Form) -> reqwest::Response {
    client
        .request(Method::POST, path)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Asserts that the server keeps no upload at all, file or record.
async fn nothing_stored(storage: &Storage, server: &crate::harness::Server, after: &str) {
    let name = storage.name();
    assert_eq!(
        storage.keys(server, "uploads").await,
        Vec::<String>::new(),
        "{name}: {after}"
    );
    assert_eq!(upload_rows(server).await, 0, "{name}: {after}");
}

#[tokio::test]
async fn refused_job_forms_leave_no_upload() {
    for storage in Storage::both("refused-forms") {
        let dir = tempfile::tempdir().unwrap();
        let server = storage.start(&dir.path().join("data"), &["--workers", "0"]);
        let client = server.user("ivy@example.com").await;

        let three_files = Form::new()
            .text("pipeline", "probe")
            .part("file", file_part(video()))
            .part("file", file_part(video()))
            .part("file", file_part(video()));
        let refused = expect(
            post_form(&client, "/v1/jobs", three_files).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(refused["error"]["code"], "invalid_input");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("more than one field named file"),
            "{refused}"
        );
        nothing_stored(&storage, &server, "three files").await;

        let refusals = [
            (
                Form::new()
                    .text("pipeline", "no-such-pipeline")
                    .part("file", file_part(video())),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                Form::new()
                    .text("pipeline", "probe")
                    .part("file", file_part(b"not a video at all".to_vec())),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                Form::new()
                    .part("file", file_part(video()))
                    .text("pipeline", "probe")
                    .text("params", "{not json"),
                StatusCode::BAD_REQUEST,
            ),
            (
                Form::new().part("file", file_part(video())),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (form, status) in refusals {
            let body = expect(post_form(&client, "/v1/jobs", form).await, status).await;
            assert!(body["error"]["message"].is_string(), "{body}");
        }
        nothing_stored(&storage, &server, "refused submissions").await;

        let accepted = Form::new()
            .text("pipeline", "probe")
            .part("file", file_part(video()));
        expect(
            post_form(&client, "/v1/jobs", accepted).await,
            StatusCode::ACCEPTED,
        )
        .await;
        assert_eq!(storage.keys(&server, "uploads").await.len(), 1);
        assert_eq!(upload_rows(&server).await, 1);
    }
}

#[tokio::test]
async fn the_compatible_apis_refuse_a_second_file_and_keep_none() {
    for storage in Storage::both("compat-forms") {
        let dir = tempfile::tempdir().unwrap();
        let server = storage.start(&dir.path().join("data"), &["--workers", "0"]);
        let client = server.user("jon@example.com").await;

        for (path, other_field) in [
            ("/videos/upload", ("interval", "2")),
            ("/processar", ("joint_selection", "Joelho")),
        ] {
            let two_files = Form::new()
                .part("file", file_part(video()))
                .text(other_field.0, other_field.1)
                .part("file", file_part(video()));
            let refused = expect(
                post_form(&client, path, two_files).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert!(
                refused["detail"]
                    .as_str()
                    .is_some_and(|detail| detail.contains("more than one field named file")),
                "{path}: {refused}"
            );
            nothing_stored(&storage, &server, path).await;
        }
        let bad_interval = Form::new()
            .part("file", file_part(video()))
            .text("interval", "often");
        let refused = expect(
            post_form(&client, "/videos/upload", bad_interval).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(refused["detail"].is_string(), "{refused}");
        let not_a_video = Form::new().part("file", file_part(b"garbage".to_vec()));
        expect(
            post_form(&client, "/processar", not_a_video).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        nothing_stored(&storage, &server, "refused compatible uploads").await;
    }
}

#[tokio::test]
async fn an_owner_deletes_an_upload_unless_a_live_job_uses_it() {
    for storage in Storage::both("delete-upload") {
        let dir = tempfile::tempdir().unwrap();
        // Without workers, a job stays queued: alive until cancelled.
        let server = storage.start(&dir.path().join("data"), &["--workers", "0"]);
        let client = server.user("kim@example.com").await;
        let stranger = server.user("lou@example.com").await;
        let response = client.upload_bytes("messi.mp4", video()).await;
        let upload = expect(response, StatusCode::CREATED).await;
        let id = upload["id"].as_str().unwrap();
        let path = format!("/v1/uploads/{id}");
        let job = client
            .submit(json!({"pipeline": "probe", "upload_id": id}))
            .await;
        let job_id = job["id"].as_str().unwrap();

        let in_use = expect(client.delete(&path).await, StatusCode::CONFLICT).await;
        assert_eq!(in_use["error"]["code"], "conflict");
        expect(stranger.delete(&path).await, StatusCode::NOT_FOUND).await;
        assert_eq!(storage.keys(&server, "uploads").await.len(), 1);

        let cancel = client.post(&format!("/v1/jobs/{job_id}/cancel")).await;
        expect(cancel, StatusCode::ACCEPTED).await;
        let deleted = client.delete(&path).await;
        assert_eq!(
            deleted.status(),
            StatusCode::NO_CONTENT,
            "{}",
            storage.name()
        );
        expect(client.get(&path).await, StatusCode::NOT_FOUND).await;
        expect(client.delete(&path).await, StatusCode::NOT_FOUND).await;
        let ended: Value = client.job(job_id).await;
        assert_eq!(ended["upload_id"], Value::Null, "{ended:#}");
        assert_eq!(ended["state"], "cancelled");
        let resubmitted = client
            .post_json("/v1/jobs", json!({"pipeline": "probe", "upload_id": id}))
            .await;
        expect(resubmitted, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(storage.keys(&server, "uploads").await, Vec::<String>::new());
        assert_eq!(upload_rows(&server).await, 0);
    }
}
