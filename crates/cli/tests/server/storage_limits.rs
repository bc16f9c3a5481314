//! What a user can make the server keep, and for how long: the per-user
//! quota, the retention period, and the sweeper that removes what killed
//! processes and unfinished presigned uploads leave behind — on local
//! storage and on S3.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{eventually, expect, refused_start, Client};
use crate::stored::{upload_rows, Storage};
use crate::upload_cleanup::video;

#[tokio::test]
async fn uploads_past_a_users_quota_are_refused() {
    let size = video().len();
    let quota = (size + size / 2).to_string();
    for storage in Storage::both("quota") {
        let dir = tempfile::tempdir().unwrap();
        let args = ["--workers", "0", "--user-quota-bytes", quota.as_str()];
        let server = storage.start(&dir.path().join("data"), &args);
        let client = server.user("ola@example.com").await;
        let first = expect(
            client.upload_bytes("a.mp4", video()).await,
            StatusCode::CREATED,
        )
        .await;

        let refused = expect(
            client.upload_bytes("b.mp4", video()).await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
        assert_eq!(refused["error"]["code"], "quota_exceeded", "{refused}");
        assert!(refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("quota of {quota} bytes")));
        let presign = json!({"filename": "c.mp4", "size": size});
        let refused = expect(
            client
                .post_json("/v1/uploads/presign", presign.clone())
                .await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
        assert_eq!(refused["error"]["code"], "quota_exceeded");
        let small = json!({"filename": "d.bin", "size": size / 4});
        expect(
            client.post_json("/v1/uploads/presign", small).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(storage.keys(&server, "uploads").await.len(), 1);
        assert_eq!(upload_rows(&server).await, 1);

        // The quota is each user's own, and deleting makes room.
        let other = server.user("pia@example.com").await;
        expect(
            other.upload_bytes("a.mp4", video()).await,
            StatusCode::CREATED,
        )
        .await;
        let first_path = format!("/v1/uploads/{}", first["id"].as_str().unwrap());
        assert_eq!(
            client.delete(&first_path).await.status(),
            StatusCode::NO_CONTENT
        );
        expect(
            client.upload_bytes("b.mp4", video()).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(upload_rows(&server).await, 2, "{}", storage.name());
    }
}

#[tokio::test]
async fn retention_deletes_old_jobs_and_uploads_but_not_what_a_live_job_uses() {
    for storage in Storage::both("retention") {
        let dir = tempfile::tempdir().unwrap();
        // 0.0003 days is about 26 s; without workers a job stays queued (alive).
        let args = [
            "--workers",
            "0",
            "--retention-days",
            "0.0003",
            "--sweep-interval-s",
            "0.5",
        ];
        let server = storage.start(&dir.path().join("data"), &args);
        let client = server.user("quinn@example.com").await;
        let upload = async || {
            let body = expect(
                client.upload_bytes("v.mp4", video()).await,
                StatusCode::CREATED,
            )
            .await;
            body["id"].as_str().unwrap().to_owned()
        };
        let (used, unused, ended_with) = (upload().await, upload().await, upload().await);
        let live = client
            .submit(json!({"pipeline": "probe", "upload_id": used}))
            .await;
        let ended = client
            .submit(json!({"pipeline": "probe", "upload_id": ended_with}))
            .await;
        let ended_path = format!("/v1/jobs/{}", ended["id"].as_str().unwrap());
        expect(
            client.post(&format!("{ended_path}/cancel")).await,
            StatusCode::ACCEPTED,
        )
        .await;

        eventually(Duration::from_secs(120), async || {
            let unused = client.get(&format!("/v1/uploads/{unused}")).await.status();
            let ended = client.get(&ended_path).await.status();
            let gone = [unused, ended] == [StatusCode::NOT_FOUND; 2];
            gone.then_some(())
                .ok_or(format!("upload {unused}, ended job {ended}"))
        })
        .await;
        eventually(Duration::from_secs(30), async || {
            let status = client
                .get(&format!("/v1/uploads/{ended_with}"))
                .await
                .status();
            (status == StatusCode::NOT_FOUND)
                .then_some(())
                .ok_or(format!("the ended job's upload: {status}"))
        })
        .await;
        let kept = client.get(&format!("/v1/uploads/{used}")).await;
        expect(kept, StatusCode::OK).await;
        let live = client.job(live["id"].as_str().unwrap()).await;
        assert_eq!(live["state"], "queued");
        assert_eq!(live["upload_id"], used.as_str());
        // A record goes before its file.
        eventually(Duration::from_secs(30), async || {
            let left = storage.keys(&server, "uploads").await;
            (left.len() == 1)
                .then_some(())
                .ok_or(format!("{}: {left:?}", storage.name()))
        })
        .await;
        assert_eq!(upload_rows(&server).await, 1);
    }
}

/// The files and directories directly in `dir`.
fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|entry| entry.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Starts an upload that sends its first megabyte and then nothing more,
/// so that the server holds a write in progress.
fn start_stalled_upload(client: &Client) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let first = vec![7u8; 1024 * 1024];
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(
        futures::stream::once(async move {
            let _ = stopped.await;
            Err(std::io::Error::other("the client gave up"))
        }),
    );
    let part = Part::stream(reqwest::Body::wrap_stream(stream)).file_name("big.bin");
    let request = client
        .request(Method::POST, "/v1/uploads")
        .multipart(Form::new().part("file", part));
    tokio::spawn(request.send());
    stop
}

#[tokio::test]
async fn after_kill_9_the_sweeper_removes_temporary_files_and_scratch() {
    for storage in Storage::both("sweeper") {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let args = ["--workers", "1", "--lease-ttl-s", "4"];
        let mut first = storage.start(&data, &args);
        let client = first.user("rae@example.com").await;
        let job = client
            .submit(json!({"pipeline": "sleep", "params": {"seconds": 10}}))
            .await;
        let job_id = job["id"].as_str().unwrap().to_owned();
        // Progress comes from the pipeline, which runs in its scratch directory.
        client
            .wait_until(&job_id, Duration::from_secs(60), |job| {
                job["state"] == "running" && job["progress"].as_f64().unwrap() > 0.0
            })
            .await;
        let scratch = data.join("scratch").join(format!("{job_id}-1"));
        assert!(scratch.is_dir(), "{}", scratch.display());
        let temp_dir = data.join("blobs").join(".tmp");
        let _stalled = matches!(storage, Storage::Local).then(|| start_stalled_upload(&client));
        if matches!(storage, Storage::Local) {
            eventually(Duration::from_secs(30), async || {
                let written = entries(&temp_dir)
                    .iter()
                    .any(|file| file.metadata().is_ok_and(|m| m.len() > 0));
                written
                    .then_some(())
                    .ok_or("no temporary file yet".to_owned())
            })
            .await;
        }
        first.kill();
        // An hour later, nobody has touched the killed upload's file.
        let an_hour_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
        for file in entries(&temp_dir) {
            let file = std::fs::File::options().write(true).open(file).unwrap();
            file.set_modified(an_hour_ago).unwrap();
        }

        let sweeping = [&args[..], &["--sweep-interval-s", "0.5"]].concat();
        let second = storage.start(&data, &sweeping);
        let mut client = second.client();
        client
            .login("rae@example.com", "correct horse battery")
            .await;
        let job = client.wait_ended(&job_id).await;
        assert_eq!(job["state"], "succeeded", "{job:#}");
        assert_eq!(job["attempts"], 2);
        eventually(Duration::from_secs(30), async || {
            let left = [entries(&data.join("scratch")), entries(&temp_dir)].concat();
            left.is_empty()
                .then_some(())
                .ok_or(format!("{}: still there: {left:?}", storage.name()))
        })
        .await;
        drop(second);
    }
}

#[tokio::test]
async fn presigned_uploads_never_completed_are_swept_after_expiry() {
    for storage in Storage::both("presign-expiry") {
        let dir = tempfile::tempdir().unwrap();
        let args = [
            "--workers",
            "0",
            "--presign-ttl-s",
            "5",
            "--sweep-interval-s",
            "0.5",
        ];
        let server = storage.start(&dir.path().join("data"), &args);
        let client = server.user("sam@example.com").await;
        let bytes = video();
        let presign = json!({"filename": "v.mp4", "size": bytes.len()});
        let presigned = expect(
            client.post_json("/v1/uploads/presign", presign).await,
            StatusCode::CREATED,
        )
        .await;
        let sent = reqwest::Client::new()
            .put(presigned["url"].as_str().unwrap())
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert!(sent.status().is_success(), "{}", sent.status());
        assert_eq!(storage.keys(&server, "presigned").await.len(), 1);

        let complete = format!(
            "/v1/uploads/{}/complete",
            presigned["upload_id"].as_str().unwrap()
        );
        eventually(Duration::from_secs(60), async || {
            let left = storage.keys(&server, "presigned").await;
            left.is_empty()
                .then_some(())
                .ok_or(format!("{}: still there: {left:?}", storage.name()))
        })
        .await;
        // The sweeper removes the objects first, then the record (until
        // then, completing finds nothing to complete).
        eventually(Duration::from_secs(30), async || {
            let status = client.post_json(&complete, json!({})).await.status();
            (status == StatusCode::NOT_FOUND)
                .then_some(())
                .ok_or(format!("{}: completing answers {status}", storage.name()))
        })
        .await;
        assert_eq!(upload_rows(&server).await, 0);
    }
}

#[tokio::test]
async fn sweeper_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    for (setting, value) in [
        ("retention_days", "0"),
        ("retention_days", "-1"),
        ("sweep_interval_s", "0"),
        ("presign_ttl_s", "0"),
    ] {
        let flag = format!("--{}={value}", setting.replace('_', "-"));
        let args = ["serve", "--data-dir", dir.path().to_str().unwrap(), &flag];
        let stderr = refused_start(&args, &[]);
        assert!(stderr.contains(setting), "{flag}: {stderr}");
    }
}
