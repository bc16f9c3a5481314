//! The `biomech` pipeline on real footage of a person: landmarks against
//! MediaPipe's own, angles steady on a still photo and under camera motion,
//! the skeleton fit, the artifacts; and the biomechanics server's API.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{expect, fixture, read_json, run_pipeline, run_succeeds, Client, Server};

/// The 12 limb landmarks: shoulders, elbows, wrists, hips, knees, ankles.
const LIMBS: [usize; 12] = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28];

/// `kinoflow run biomech` on `video`; the artifacts' folder.
fn run_biomech(video: &Path, params: &[&str], out: &Path) -> PathBuf {
    run_biomech_on("auto", video, params, out)
}

/// `kinoflow run biomech` with the models run by `inference` (auto, ort or tract).
fn run_biomech_on(inference: &str, video: &Path, params: &[&str], out: &Path) -> PathBuf {
    let mut command = run_pipeline("biomech", video, params, out);
    command.env("KINOFLOW_INFERENCE", inference);
    run_succeeds(command, out)
}

/// `basketball1.png` (a man standing, catching a ball) as a 640×480, 25 fps
/// video of `frames` frames: held still, or in a slow zoom (1.0 → 1.2) and
/// pan made as `fixtures/make_person_video.sh` makes its video. The photo is
/// padded by a quarter so that the whole body stays in the frame.
fn basketball_video(dir: &Path, frames: u32, moving: bool) -> PathBuf {
    let pad = "pad=trunc(iw*1.25/2)*2:trunc(ih*1.25/2)*2:(ow-iw)/2:(oh-ih)/2";
    let filter = if moving {
        format!("{pad},scale=2560:1920,zoompan=z='1+0.2*on/{last}':x='(iw-iw/zoom)*on/{last}':y='(ih-ih/zoom)*0.6':d=1:s=640x480:fps=25,format=yuv420p", last = frames - 1)
    } else {
        format!("{pad},scale=640:480,format=yuv420p")
    };
    let path = dir.join(format!("basketball-{frames}-{moving}.mp4"));
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i"])
        .arg(fixture("basketball1.png"))
        .args(["-vf", &filter, "-frames:v", &frames.to_string()])
        .args(["-c:v", "libx264", "-crf", "18"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path
}

/// The angle columns of `angles.csv` by name, `None` for empty cells.
fn angle_columns(csv: &str) -> Vec<(String, Vec<Option<f64>>)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    header
        .iter()
        .enumerate()
        .skip(2)
        .map(|(k, name)| {
            let values = rows.iter().map(|row| row[k].parse().ok()).collect();
            (name.to_string(), values)
        })
        .collect()
}

fn mean_and_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn ffprobe_frames(path: &Path) -> u64 {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "ffprobe cannot read {path:?}");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn is_png(path: &Path) -> bool {
    image::open(path).is_ok() && std::fs::read(path).unwrap().starts_with(b"\x89PNG")
}

/// The limb landmarks of a run on `messi_zoompan.mp4` against MediaPipe's own.
fn limb_landmarks_match_mediapipe(out: &Path) {
    let reference = read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../vision/tests/reference/video.json"),
    );
    let ours = read_json(&out.join("keypoints.json"));
    let height = reference["height"].as_f64().unwrap();
    let theirs = reference["frames"].as_array().unwrap();
    let frames = ours["frames"].as_array().unwrap();
    assert_eq!(frames.len(), theirs.len());
    let mut errors = Vec::new();
    for (mine, theirs) in frames.iter().zip(theirs) {
        let (Some(mine), Some(theirs)) = (
            mine["landmarks"].as_array().filter(|l| !l.is_empty()),
            theirs["landmarks"].as_array(),
        ) else {
            continue;
        };
        for i in LIMBS {
            let d = |k: usize| mine[i][k].as_f64().unwrap() - theirs[i][k].as_f64().unwrap();
            errors.push(d(0).hypot(d(1)) / height * 100.0);
        }
    }
    assert!(errors.len() >= 12 * 90, "too few frames compared");
    errors.sort_by(f64::total_cmp);
    let median = errors[errors.len() / 2];
    let p90 = errors[errors.len() * 9 / 10];
    eprintln!("limb landmarks vs MediaPipe: median {median:.2} %, p90 {p90:.2} % of the height");
    assert!(median <= 1.5, "median {median:.2} %");
    assert!(p90 <= 4.0, "90th percentile {p90:.2} %");
}

#[test]
fn landmarks_match_mediapipe_on_a_real_person_and_every_artifact_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let video = fixture("messi_zoompan.mp4");
    let out = run_biomech(&video, &["joint=all"], dir.path());
    limb_landmarks_match_mediapipe(&out);

    // ONNX Runtime is the default where its library is installed, as here.
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["inference"], "onnxruntime");
    // After the fit each segment keeps one length.
    for segment in summary["skeleton"]["segments"].as_array().unwrap() {
        let after = segment["after_fit"]["range_pct"].as_f64().unwrap();
        assert!(after < 1.0, "{segment}");
    }
    assert!(summary["detection_rate"].as_f64().unwrap() > 0.95);
    assert!(summary["angles"]["knee_left_deg"]["range_of_motion_deg"].is_number());

    // The overlay has the input's frames and plays; the charts are PNGs.
    let overlay = out.join("overlay.mp4");
    let (input_frames, overlay_frames) = (ffprobe_frames(&video), ffprobe_frames(&overlay));
    assert!(input_frames.abs_diff(overlay_frames) <= 1);
    for joint in ["knee", "hip", "ankle", "elbow", "shoulder", "trunk"] {
        assert!(is_png(&out.join(format!("chart_{joint}.png"))), "{joint}");
    }

    let csv = std::fs::read_to_string(out.join("angles.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("frame,time_s,knee_left_deg,knee_right_deg,"));
    assert!(header.contains(",knee_left_2d_deg,") && header.contains(",trunk_deg,"));
    let trc = std::fs::read_to_string(out.join("markers.trc")).unwrap();
    assert!(trc.starts_with("PathFileType\t4\t(X/Y/Z)"));
    let mot = std::fs::read_to_string(out.join("angles.mot")).unwrap();
    assert!(mot.contains("inDegrees=yes\nendheader\ntime\tknee_left"));
}

#[test]
fn tract_still_runs_the_models_when_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_biomech_on(
        "tract",
        &fixture("messi_zoompan.mp4"),
        &["overlay=false"],
        dir.path(),
    );
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["inference"], "tract");
    limb_landmarks_match_mediapipe(&out);
}

#[test]
fn angles_hold_still_on_a_photo_and_under_zoom_and_pan() {
    let dir = tempfile::tempdir().unwrap();
    let still_dir = dir.path().join("still");
    let moving_dir = dir.path().join("moving");
    std::fs::create_dir_all(&still_dir).unwrap();
    std::fs::create_dir_all(&moving_dir).unwrap();
    let still = basketball_video(dir.path(), 75, false);
    let moving = basketball_video(dir.path(), 100, true);
    let still_out = run_biomech(&still, &["overlay=false"], &still_dir);
    let moving_out = run_biomech(&moving, &["overlay=false"], &moving_dir);

    let still_csv = std::fs::read_to_string(still_out.join("angles.csv")).unwrap();
    let moving_csv = std::fs::read_to_string(moving_out.join("angles.csv")).unwrap();
    let moving = angle_columns(&moving_csv);
    for (name, values) in angle_columns(&still_csv) {
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        assert_eq!(present.len(), 75, "{name}: the person was lost");
        let (mean, sd) = mean_and_sd(&present);
        assert!(sd <= 2.0, "{name}: sd {sd:.2}° on a still photo");
        if !name.contains("_2d") {
            continue;
        }
        // Camera motion changes the crop the landmark model sees, and with
        // it the landmarks by a few pixels: short segments (feet, forearms)
        // swing by more than 5° in some frames, as they do with MediaPipe
        // itself; typical frames stay within 5°.
        let (_, under_motion) = moving.iter().find(|(n, _)| *n == name).unwrap();
        let mut deviations: Vec<f64> = under_motion
            .iter()
            .flatten()
            .map(|value| (value - mean).abs())
            .collect();
        assert_eq!(deviations.len(), 100, "{name}: the person was lost");
        deviations.sort_by(f64::total_cmp);
        let median = deviations[deviations.len() / 2];
        assert!(
            median <= 5.0,
            "{name}: {median:.1}° from the still angle ({mean:.1}°) in a typical frame"
        );
    }
}

/// A server whose compatible routes take callers without a token.
fn anonymous_server(root: &Path) -> Server {
    Server::start(root, &["--allow-anonymous", "true", "--workers", "1"])
}

async fn processar(client: &Client, video: &Path, joint: Option<&str>) -> reqwest::Response {
    let bytes = std::fs::read(video).unwrap();
    let name = video.file_name().unwrap().to_string_lossy().into_owned();
    let mut form = Form::new().part("file", Part::bytes(bytes).file_name(name));
    if let Some(joint) = joint {
        form = form.text("joint_selection", joint.to_owned());
    }
    client
        .request(reqwest::Method::POST, "/processar")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Polls `/status` until the job leaves `processando`.
async fn wait_status(client: &Client, job_id: &str) -> Value {
    for _ in 0..1200 {
        let status = expect(
            client.get(&format!("/status/{job_id}")).await,
            StatusCode::OK,
        )
        .await;
        if status["status"] != "processando" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the analysis did not end");
}

#[tokio::test]
async fn the_biomechanics_api_runs_an_analysis_end_to_end() {
    let root = tempfile::tempdir().unwrap();
    let server = anonymous_server(root.path());
    let client = server.client();

    let health = expect(client.get("/health").await, StatusCode::OK).await;
    assert_eq!(health["message"], "Servidor Biomech Operante");

    let started = expect(
        processar(&client, &fixture("messi_zoompan.mp4"), Some("Joelho")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(started["message"], "Iniciado");
    let job_id = started["job_id"].as_str().unwrap().to_owned();
    let done = wait_status(&client, &job_id).await;
    assert_eq!(done["status"], "concluido", "{done}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["zip_file"], "analise_final.zip");
    let names: Vec<&str> = done["resultados"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for expected in ["grafico_joelho.png", "video_overlay.mp4", "angles.csv"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    for name in &names {
        let response = client.get(&format!("/resultados/{job_id}/{name}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert!(!response.bytes().await.unwrap().is_empty(), "{name}");
    }

    let zip = client.get(&format!("/download-zip/{job_id}")).await;
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let disposition = zip.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("analise_final.zip"));
    let bytes = zip.bytes().await.unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut entries: Vec<&str> = archive.file_names().collect();
    let mut listed = names.clone();
    entries.sort_unstable();
    listed.sort_unstable();
    assert_eq!(entries, listed);

    // Unknown jobs and names are 404s with a message.
    let missing = expect(
        client
            .get("/status/0190a0a0-0000-7000-8000-000000000000")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(missing["detail"].is_string());
    expect(
        client.get(&format!("/resultados/{job_id}/nada.png")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn cancelling_through_the_biomechanics_api_ends_the_job_cancelled() {
    let root = tempfile::tempdir().unwrap();
    let server = anonymous_server(root.path());
    let client = server.client();
    let long = basketball_video(root.path(), 1500, false);
    let started = expect(processar(&client, &long, None).await, StatusCode::OK).await;
    let job_id = started["job_id"].as_str().unwrap().to_owned();
    // Wait until it is running (some progress), then cancel.
    for _ in 0..600 {
        let status = expect(
            client.get(&format!("/status/{job_id}")).await,
            StatusCode::OK,
        )
        .await;
        if status["progress"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cancelled = expect(
        client.post(&format!("/cancelar/{job_id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["message"], "Sinal de cancelamento enviado.");
    let ended = wait_status(&client, &job_id).await;
    assert_eq!(ended["status"], "cancelado", "{ended}");
}

#[tokio::test]
async fn the_biomechanics_api_refuses_bad_requests_clearly() {
    let root = tempfile::tempdir().unwrap();
    let server = anonymous_server(root.path());
    let client = server.client();
    let video = fixture("messi_zoompan.mp4");

    let unknown_joint = processar(&client, &video, Some("Pescoço")).await;
    assert_eq!(unknown_joint.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = unknown_joint.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("joint"), "{body}");

    let text = root.path().join("notes.mp4");
    std::fs::write(&text, "not a video").unwrap();
    let not_video = processar(&client, &text, None).await;
    assert_eq!(not_video.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let no_file = client
        .request(reqwest::Method::POST, "/processar")
        .multipart(Form::new().text("joint_selection", "Joelho"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_file.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let not_multipart = client.post_json("/processar", serde_json::json!({})).await;
    assert_eq!(not_multipart.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn without_anonymous_access_the_biomechanics_api_needs_a_token() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path(), &["--workers", "0"]);
    let anonymous = server.client();
    // A small body: the server refuses before reading, and a client still
    // sending the video could see the connection closed under it.
    let tiny = root.path().join("tiny.mp4");
    std::fs::write(&tiny, b"x").unwrap();
    let refused = processar(&anonymous, &tiny, None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // Nobody can take the anonymous account's address.
    let squatter = anonymous
        .post_json(
            "/v1/auth/register",
            serde_json::json!({"email": "anonymous@kinoflow.invalid", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(squatter.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let alice = server.user("alice@example.com").await;
    let started = expect(
        processar(&alice, &fixture("messi_zoompan.mp4"), None).await,
        StatusCode::OK,
    )
    .await;
    let job_id = started["job_id"].as_str().unwrap();
    expect(
        alice.get(&format!("/status/{job_id}")).await,
        StatusCode::OK,
    )
    .await;
    // Another user cannot see it, nor can a caller without a token.
    let bob = server.user("bob@example.com").await;
    expect(
        bob.get(&format!("/status/{job_id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect(
        anonymous.get(&format!("/status/{job_id}")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[test]
fn the_overlay_keeps_the_audio_and_a_video_without_people_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let with_audio = dir.path().join("with-audio.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i"])
        .arg(fixture("basketball1.png"))
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=1"])
        .args(["-frames:v", "25", "-vf", "scale=320:240,format=yuv420p"])
        .args(["-c:v", "libx264", "-c:a", "aac", "-shortest"])
        .arg(&with_audio)
        .status()
        .unwrap();
    assert!(status.success());
    let out = run_biomech(&with_audio, &[], &dir.path().join("audio"));
    let streams = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
        ])
        .arg(out.join("overlay.mp4"))
        .output()
        .unwrap();
    let streams = String::from_utf8_lossy(&streams.stdout);
    assert!(
        streams.contains("video") && streams.contains("audio"),
        "{streams}"
    );

    let nobody = dir.path().join("nobody.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=25:d=1",
        ])
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&nobody)
        .status()
        .unwrap();
    assert!(status.success());
    let out = run_biomech(&nobody, &["overlay=false"], &dir.path().join("nobody"));
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["detection_rate"], 0.0);
    assert_eq!(summary["angles"], serde_json::json!({}));
    let csv = std::fs::read_to_string(out.join("angles.csv")).unwrap();
    let first_row = csv.lines().nth(1).unwrap();
    assert!(first_row.ends_with(",,,"), "{first_row}");
    assert!(is_png(&out.join("chart_knee.png")));
}
