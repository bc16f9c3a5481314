//! How a job ends when ffmpeg fails under it: a killed ffmpeg is the node's
//! trouble, so the job is tried again and delivered whole; a file ffmpeg
//! cannot read fails at once, without a retry.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::harness::{ffmpeg_children, long_video, make_video, Server};

/// The process id in a `/proc/PID/stat` line.
fn stat_pid(stat: &str) -> i32 {
    stat.split_whitespace()
        .next()
        .and_then(|pid| pid.parse().ok())
        .expect("a stat line starts with the pid")
}

#[tokio::test]
async fn a_killed_ffmpeg_is_retried_and_the_job_delivered_whole() {
    let dir = tempfile::tempdir().unwrap();
    let video = long_video(dir.path(), 20);
    let server = Server::start(dir.path(), &["--workers", "1", "--retry-base-s", "0.1"]);
    let client = server.user("kai@example.com").await;
    let job_id = &client.extracting_frames_job(&video).await;
    let running = ffmpeg_children(server.pid());
    assert!(!running.is_empty(), "ffmpeg should be running");
    for stat in running {
        let _ = kill(Pid::from_raw(stat_pid(&stat)), Signal::SIGKILL);
    }

    let job = client.wait_ended(job_id).await;
    assert_eq!(job["state"], "succeeded", "{job:#}");
    assert_eq!(job["attempts"], 2, "{job:#}");
    let manifest: Value =
        serde_json::from_slice(&client.artifact_bytes(job_id, "manifest.json").await).unwrap();
    assert_eq!(manifest["frames"].as_array().map(Vec::len), Some(600));
}

#[tokio::test]
async fn a_file_ffmpeg_cannot_read_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let video = dir.path().join("short.mp4");
    make_video(&video, "testsrc=s=64x48:r=10:d=2", &[]);
    // Queued while no worker runs, so that the stored file can be damaged
    // after it passed the submission checks.
    let server = Server::start_in(&data, &["--workers", "0"]);
    let client = server.user("mo@example.com").await;
    let upload_id = client.upload(&video).await;
    let job = client
        .submit(json!({"pipeline": "probe", "upload_id": upload_id}))
        .await;
    let job_id = job["id"].as_str().unwrap().to_owned();
    drop(client);
    drop(server);
    let size = std::fs::metadata(&video).unwrap().len();
    let stored = stored_files(&data.join("blobs"))
        .into_iter()
        .find(|file| std::fs::metadata(file).is_ok_and(|m| m.len() == size))
        .expect("the upload is stored as a file");
    std::fs::write(&stored, vec![0u8; size as usize]).unwrap();

    let server = Server::start_in(&data, &["--workers", "1", "--retry-base-s", "0.1"]);
    let mut client = server.client();
    client
        .login("mo@example.com", "correct horse battery")
        .await;
    let job = client.wait_ended(&job_id).await;
    assert_eq!(job["state"], "failed", "{job:#}");
    assert_eq!(job["attempts"], 1, "{job:#}");
    assert!(
        job["error"]
            .as_str()
            .unwrap()
            .contains("not a readable video"),
        "{job:#}"
    );
}

/// Every file under `dir`.
fn stored_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
