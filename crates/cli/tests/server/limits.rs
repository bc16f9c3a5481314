//! What a hostile client can make the server hold: jobs that would plan
//! absurd work, oversized pictures and bodies, slow and idle connections,
//! and the error shape of every refusal.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{expect, make_video, Server};

/// Two frames a hundred hours apart: a 100-hour video in a few kilobytes.
fn hundred_hour_video(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("hundred_hours.mkv");
    make_video(
        &path,
        "testsrc=s=64x48:r=1:d=2,setpts='N*360000/TB'",
        &["-c:v", "ffv1", "-fps_mode", "passthrough"],
    );
    path
}

#[tokio::test]
async fn frames_jobs_cannot_plan_more_frames_than_exist_or_are_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("planner@example.com").await;
    let long = client.upload(&hundred_hour_video(dir.path())).await;
    let before = server.rss_mib();

    // The interval that once made the plan ask for exabytes: refused by its minimum.
    let tiny = json!({"pipeline": "frames", "upload_id": long, "params": {"interval_s": 1e-17}});
    let body = expect(
        client.post_json("/v1/jobs", tiny).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["error"]["fields"][0]["field"], "params.interval_s");

    // A hundred hours at 0.01 s would be 36 million times, but the file
    // holds two frames: the job takes those two, and nothing more is planned.
    for params in [json!({"interval_s": 0.01}), json!({"count": 1000})] {
        let job = client
            .submit(json!({"pipeline": "frames", "upload_id": long, "params": params}))
            .await;
        let job = client.wait_ended(job["id"].as_str().unwrap()).await;
        assert_eq!(job["state"], "succeeded", "{job:#}");
        let manifest = client
            .artifact_bytes(job["id"].as_str().unwrap(), "manifest.json")
            .await;
        let manifest: Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(manifest["frames"].as_array().unwrap().len(), 2, "{params}");
    }

    let grown = server.rss_mib() - before;
    assert!(grown < 64.0, "the server grew by {grown:.0} MiB");
    assert!(server.is_alive());
}

#[tokio::test]
async fn configured_frame_and_pixel_limits_refuse_at_submission() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("small.mp4");
    make_video(
        &video,
        "testsrc=s=128x96:r=25:d=2",
        &["-pix_fmt", "yuv420p"],
    );
    let server = Server::start(
        dir.path(),
        &[
            "--workers",
            "1",
            "--max-frames-per-job",
            "10",
            "--max-video-pixels",
            "20000",
        ],
    );
    let client = server.user("limits@example.com").await;
    let upload = client.upload(&video).await;

    let every_frame = json!({"pipeline": "frames", "upload_id": upload,
                             "params": {"every_n_frames": 1}});
    let body = expect(
        client.post_json("/v1/jobs", every_frame).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 10 frames"),
        "{body}"
    );
    client
        .submit(json!({"pipeline": "frames", "upload_id": upload, "params": {"count": 5}}))
        .await;

    let big = dir.path().join("big.mp4");
    make_video(&big, "testsrc=s=160x128:r=5:d=1", &["-pix_fmt", "yuv420p"]);
    let big = client.upload(&big).await;
    for pipeline in ["frames", "probe", "biomech"] {
        let job = json!({"pipeline": pipeline, "upload_id": big, "params": {"count": 1}});
        let job = if pipeline == "frames" {
            job
        } else {
            json!({"pipeline": pipeline, "upload_id": big})
        };
        let body = expect(
            client.post_json("/v1/jobs", job).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("160×128"), "{pipeline}: {message}");
    }
}

#[tokio::test]
async fn a_batch_checks_every_jobs_fields_before_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "0"]);
    let client = server.user("batcher@example.com").await;
    let response = client
        .upload_bytes("notes.txt", b"not a video".to_vec())
        .await;
    let not_a_video = expect(response, StatusCode::CREATED).await["id"].clone();
    let mut jobs: Vec<Value> = (0..200)
        .map(|_| json!({"pipeline": "probe", "upload_id": not_a_video}))
        .collect();
    let last_is_bad = json!({"pipeline": "frames", "upload_id": not_a_video,
                             "params": {"interval_s": -1}});
    let all_probes = jobs.clone();
    jobs[199] = last_is_bad;
    // The cheap mistake of the last job is found before the first job's file
    // is read; without it, the first job's file is what is wrong.
    for (jobs, refused) in [(jobs, "jobs[199]: "), (all_probes, "jobs[0]: ")] {
        let response = client
            .post_json("/v1/jobs/batch", json!({ "jobs": jobs }))
            .await;
        let body = expect(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(refused), "{body}");
    }
}

/// Sends a request's head that announces a body and asks to be told to go
/// on (`Expect: 100-continue`, as clients of large uploads do); returns the
/// status line of the answer, sending nothing more.
fn announce_body(base: &str, head: &str) -> String {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_huge_batch_body_is_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "0"]);
    let client = server.user("bulk@example.com").await;
    let token = client.token.clone().unwrap();
    let before = server.rss_mib();
    for _ in 0..5 {
        let base = server.base.clone();
        let head = format!(
            "POST /v1/jobs/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 52428800\r\n\
             Expect: 100-continue\r\nConnection: close\r\n\r\n"
        );
        let status = tokio::task::spawn_blocking(move || announce_body(&base, &head))
            .await
            .unwrap();
        assert!(status.contains(" 413 "), "{status:?}");
    }
    let grown = server.rss_mib() - before;
    assert!(grown < 40.0, "the server grew by {grown:.0} MiB");

    // Chunked, with no length announced: cut off at the limit. (The server
    // stops reading there, so the client may see its connection reset
    // before it reads the answer.)
    let response = client
        .request(Method::POST, "/v1/jobs/batch")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(
            (0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024])),
        )))
        .send()
        .await;
    if let Ok(response) = response {
        let body = expect(response, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert_eq!(body["error"]["code"], "too_large");
    }
    let grown = server.rss_mib() - before;
    assert!(grown < 40.0, "the server grew by {grown:.0} MiB");
}

/// Connects and sends `bytes`; then waits for the server to close the
/// connection, reading whatever it answers. Returns what it answered, or
/// panics if it is still open after `limit`.
fn closed_by_server(base: &str, bytes: &[u8], limit: Duration) -> String {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.write_all(bytes).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + limit;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => return String::from_utf8_lossy(&answer).into_owned(),
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return String::from_utf8_lossy(&answer).into_owned()
            }
            Err(_) => {}
        }
    }
    panic!(
        "the connection is still open; it answered {:?}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--workers",
            "0",
            "--header-read-timeout-s",
            "1",
            "--idle-timeout-s",
            "1",
            "--min-body-bytes-per-s",
            "100000",
        ],
    );
    let base = server.base.clone();
    let limit = Duration::from_secs(30);

    // Headers that never end.
    let base_for_headers = base.clone();
    tokio::task::spawn_blocking(move || {
        closed_by_server(
            &base_for_headers,
            b"GET /health HTTP/1.1\r\nHost: x\r\n",
            limit,
        )
    })
    .await
    .unwrap();

    // A connection that never says anything.
    let base_for_silence = base.clone();
    tokio::task::spawn_blocking(move || closed_by_server(&base_for_silence, b"", limit))
        .await
        .unwrap();

    // A kept-alive connection after its answer.
    let base_for_idle = base.clone();
    let answer = tokio::task::spawn_blocking(move || {
        closed_by_server(
            &base_for_idle,
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
            limit,
        )
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A body that stops coming after its first bytes (the rate is judged
    // after 10 s of grace).
    let base_for_body = base.clone();
    let answer = tokio::task::spawn_blocking(move || {
        closed_by_server(
            &base_for_body,
            b"POST /v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"email\": ",
            limit,
        )
    })
    .await
    .unwrap();
    if let Some(status) = answer.lines().next() {
        assert!(status.is_empty() || status.contains(" 4"), "{answer}");
    }
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--workers",
            "0",
            "--max-connections",
            "2",
            "--idle-timeout-s",
            "600",
        ],
    );
    let address = server.base.trim_start_matches("http://").to_owned();
    let first = TcpStream::connect(&address).unwrap();
    let second = TcpStream::connect(&address).unwrap();
    let address_for_third = address.clone();
    let third = tokio::task::spawn_blocking(move || {
        let mut third = TcpStream::connect(&address_for_third).unwrap();
        third
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        third
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut answer = [0u8; 64];
        let waited = third.read(&mut answer);
        assert!(
            waited.is_err(),
            "a third connection was served while two held the cap"
        );
        third
    })
    .await
    .unwrap();
    drop(first);
    let answer = tokio::task::spawn_blocking(move || {
        let mut third = third;
        third
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut answer = String::new();
        let _ = third.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(second);
}

#[tokio::test]
async fn rejections_axum_makes_itself_are_json_too() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "0"]);
    let client = server.user("shapes@example.com").await;

    let cases = [
        // A path segment that is not UTF-8.
        (Method::GET, "/v1/jobs/%FF%FE"),
        // A query the link route cannot parse.
        (Method::GET, "/v1/links/x/y?expires=soon&sig=z"),
        // A method the route does not take.
        (Method::PUT, "/v1/jobs"),
    ];
    for (method, path) in cases {
        let response = client.request(method.clone(), path).send().await.unwrap();
        let status = response.status();
        assert!(status.is_client_error(), "{method} {path}: {status}");
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON: {e}"));
        assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
        assert!(
            body["error"]["message"].is_string(),
            "{method} {path}: {body}"
        );
    }

    // A multipart body without a boundary, on /v1 and on a compatible API.
    for (path, shape) in [("/v1/uploads", "error"), ("/videos/upload", "detail")] {
        let response = client
            .request(Method::POST, path)
            .header("content-type", "multipart/form-data")
            .body("x")
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status.is_client_error(), "{path}: {status}");
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
        assert!(!body[shape].is_null(), "{path}: {body}");
    }
}

#[tokio::test]
async fn links_never_point_where_the_host_header_says() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("linker@example.com").await;
    let job = client.probed_job().await;
    let response = client
        .request(Method::POST, &format!("/v1/jobs/{job}/links"))
        .header("host", "evil.example")
        .json(&json!({"artifact": "probe.json"}))
        .send()
        .await
        .unwrap();
    let link = expect(response, StatusCode::CREATED).await;
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&server.base), "{url}");

    // Listening on every address without a public URL: no links at all.
    let open_dir = tempfile::tempdir().unwrap();
    let open = Server::start_bound(
        &open_dir.path().join("data"),
        "0.0.0.0:0",
        &["--workers", "1"],
    );
    let mut client = open.client();
    client.base = open.base.replace("0.0.0.0", "127.0.0.1");
    client
        .register("open@example.com", "correct horse battery")
        .await;
    client
        .login("open@example.com", "correct horse battery")
        .await;
    let job = client.probed_job().await;
    let body = expect(
        client
            .post_json(
                &format!("/v1/jobs/{job}/links"),
                json!({"artifact": "probe.json"}),
            )
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("KINOFLOW_PUBLIC_URL"),
        "{body}"
    );
}

/// A folder whose `ffprobe` writes a line to `runs.log` for each run, then
/// runs the real one: what a server started with it first on its `PATH` asks
/// of ffprobe can be counted.
fn counting_ffprobe(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|folder| folder.join("ffprobe"))
        .find(|candidate| candidate.is_file())
        .expect("ffprobe is installed");
    let bin = dir.join("counting-bin");
    let runs = dir.join("runs.log");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("ffprobe");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            runs.display(),
            real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, runs)
}

/// The ffprobe runs in `runs` that looked at a file (not the start's `-version`).
fn file_probes(runs: &std::path::Path) -> usize {
    std::fs::read_to_string(runs)
        .unwrap_or_default()
        .lines()
        .filter(|run| !run.contains("-version"))
        .count()
}

#[tokio::test]
async fn a_batch_probes_each_upload_once_however_many_checks_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let (bin, runs) = counting_ffprobe(dir.path());
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    // No workers: only the submission checks probe.
    let server = Server::start_with_env(
        &dir.path().join("data"),
        "127.0.0.1:0",
        &["--workers", "0"],
        &[("PATH", path.as_os_str())],
    );
    let client = server.user("prober@example.com").await;
    let video = dir.path().join("clip.mp4");
    make_video(&video, "testsrc=s=64x48:r=10:d=2", &[]);
    let upload = client.upload(&video).await;
    let before = file_probes(&runs);

    // Three pipelines and parameter sets, each checking the same file.
    let batch = json!({"jobs": [
        {"pipeline": "frames", "upload_id": upload, "params": {"interval_s": 0.5}},
        {"pipeline": "frames", "upload_id": upload, "params": {"every_n_frames": 2}},
        {"pipeline": "probe", "upload_id": upload},
    ]});
    let queued = expect(
        client.post_json("/v1/jobs/batch", batch).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(queued["jobs"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        file_probes(&runs) - before,
        1,
        "{}",
        std::fs::read_to_string(&runs).unwrap()
    );
}
