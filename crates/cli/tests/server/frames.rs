//! The `frames` pipeline on synthetic video (whose colour tells its time) and
//! on real footage.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{
    expect, ffmpeg_children, field_names, fixture, long_video, make_video, no_ffmpeg_left, Server,
    BIN,
};

/// 8 s at 10 fps whose colour changes every second: second k is
/// (30k, 240 - 30k, 128). Keyframes every 25 frames, and only there.
fn colour_clock(dir: &Path) -> PathBuf {
    let path = dir.join("clock.mp4");
    make_video(
        &path,
        "color=c=black:s=64x48:r=10:d=8,format=rgb24,geq=r='30*floor(T)':g='240-30*floor(T)':b=128",
        &[
            "-c:v",
            "libx264",
            "-g",
            "25",
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    path
}

/// Runs `kinoflow run frames` and returns the manifest and the ZIP's entries.
fn run_frames(video: &Path, params: &[&str], out: &Path) -> (Value, Vec<(String, Vec<u8>)>) {
    let mut command = Command::new(BIN);
    command
        .args(["run", "frames"])
        .arg(video)
        .arg("--out")
        .arg(out);
    for param in params {
        command.args(["--param", param]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let file = std::fs::File::open(out.join("frames.zip")).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let entries = (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (entry.name().to_owned(), bytes)
        })
        .collect();
    (manifest, entries)
}

fn pixel(bytes: &[u8], x: u32, y: u32) -> [u8; 3] {
    let image = image::load_from_memory(bytes).unwrap().to_rgb8();
    image.get_pixel(x, y).0
}

fn timestamps(manifest: &Value) -> Vec<f64> {
    manifest["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["timestamp_s"].as_f64().unwrap())
        .collect()
}

/// Every frame's colour is the colour of the second its timestamp falls in.
fn assert_colours_match_times(manifest: &Value, entries: &[(String, Vec<u8>)]) {
    let frames = manifest["frames"].as_array().unwrap();
    assert_eq!(frames.len(), entries.len());
    for (frame, (name, bytes)) in frames.iter().zip(entries) {
        assert_eq!(frame["file"].as_str().unwrap(), name);
        let second = (frame["timestamp_s"].as_f64().unwrap() + 1e-6).floor();
        let expected = [30.0 * second, 240.0 - 30.0 * second, 128.0];
        let got = pixel(bytes, 32, 24);
        for (g, e) in got.iter().zip(expected) {
            assert!(
                (*g as f64 - e).abs() < 20.0,
                "{name}: {got:?}, expected {expected:?}"
            );
        }
    }
}

#[test]
fn frame_colours_match_their_timestamps_for_every_selector() {
    let dir = tempfile::tempdir().unwrap();
    let video = colour_clock(dir.path());

    let (manifest, entries) = run_frames(&video, &["interval_s=1"], &dir.path().join("a"));
    assert_eq!(
        timestamps(&manifest),
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    );
    assert_eq!(entries[3].0, "frame_000004_t0000003.000.jpg");
    assert_colours_match_times(&manifest, &entries);

    let (manifest, entries) = run_frames(&video, &["every_n_frames=15"], &dir.path().join("b"));
    assert_eq!(timestamps(&manifest), [0.0, 1.5, 3.0, 4.5, 6.0, 7.5]);
    assert_colours_match_times(&manifest, &entries);

    let (manifest, entries) = run_frames(&video, &["count=4", "format=png"], &dir.path().join("c"));
    // The last frame is at 7.9 s: three equal steps of 2.633 s, each the frame on screen then.
    assert_eq!(timestamps(&manifest), [0.0, 2.6, 5.2, 7.9]);
    assert!(entries[0].0.ends_with(".png"));
    assert_colours_match_times(&manifest, &entries);

    let (manifest, entries) = run_frames(
        &video,
        &["interval_s=0.5", "start_s=2.5", "end_s=4.6", "max_width=32"],
        &dir.path().join("d"),
    );
    assert_eq!(timestamps(&manifest), [2.5, 3.0, 3.5, 4.0, 4.5]);
    assert_eq!(manifest["frames"][0]["width"], 32);
    assert_eq!(manifest["frames"][0]["height"], 24);
    let (scaled, entries) = (manifest, entries);
    for (name, bytes) in &entries {
        let second = name[name.find("_t").unwrap() + 2..name.len() - 4]
            .parse::<f64>()
            .unwrap()
            .floor();
        let got = pixel(bytes, 16, 12);
        assert!(
            (got[0] as f64 - 30.0 * second).abs() < 20.0,
            "{name}: {got:?}"
        );
    }
    assert_eq!(scaled["mode"], "exact");

    let (manifest, entries) = run_frames(
        &video,
        &["interval_s=2", "mode=keyframes"],
        &dir.path().join("e"),
    );
    // Keyframes every 2.5 s: the nearest ones to 0, 2, 4 and 6 s.
    assert_eq!(timestamps(&manifest), [0.0, 2.5, 5.0]);
    assert_colours_match_times(&manifest, &entries);
    assert_eq!(manifest["strategy"], "keyframes");
}

#[test]
fn real_footage_gives_a_frame_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, entries) = run_frames(&fixture("vtest.avi"), &["interval_s=1"], dir.path());
    assert_eq!(entries.len(), 80);
    let expected: Vec<f64> = (0..80).map(f64::from).collect();
    assert_eq!(timestamps(&manifest), expected);
    assert_eq!(entries[79].0, "frame_000080_t0000079.000.jpg");
    assert_eq!(manifest["source"]["width"], 768);
    assert_eq!(manifest["frames"][0]["height"], 576);
    // Frames of a street scene differ from each other.
    assert_ne!(pixel(&entries[0].1, 400, 300), [0, 0, 0]);
}

#[test]
fn a_rotated_phone_video_comes_out_upright() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.mp4");
    make_video(
        &plain,
        "color=c=red:s=64x24:r=10:d=2[a];color=c=blue:s=64x24:r=10:d=2[b];[a][b]vstack",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    );
    let rotated = dir.path().join("rotated.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&plain)
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90"])
        .arg(&rotated)
        .status()
        .unwrap();
    assert!(status.success());
    let (manifest, entries) = run_frames(&rotated, &["count=1"], &dir.path().join("out"));
    assert_ne!(manifest["source"]["rotation"], 0);
    assert_eq!(manifest["frames"][0]["width"], 48);
    assert_eq!(manifest["frames"][0]["height"], 64);
    // Recorded with red on top; shown (as players show it) with red on the left.
    let left = pixel(&entries[0].1, 8, 32);
    let right = pixel(&entries[0].1, 40, 32);
    assert!(left[0] > 200 && left[2] < 60, "{left:?}");
    assert!(right[2] > 200 && right[0] < 60, "{right:?}");
}

#[test]
fn odd_sizes_and_variable_frame_rates_work() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("odd.mkv");
    // 33x17 pixels, and frames that come at uneven times.
    make_video(
        &odd,
        "testsrc=s=33x17:r=10:d=3,settb=1/1000,setpts='PTS+if(gte(N,10),50,0)'",
        &["-c:v", "ffv1", "-fps_mode", "passthrough"],
    );
    let (manifest, entries) =
        run_frames(&odd, &["interval_s=1", "format=png"], &dir.path().join("o"));
    assert_eq!(entries.len(), 3);
    assert_eq!(manifest["frames"][0]["width"], 33);
    assert_eq!(manifest["frames"][0]["height"], 17);
    // After the jump at frame 10 no frame sits on 1.0 s: the one on screen is 0.9 s.
    assert_eq!(timestamps(&manifest), [0.0, 0.9, 1.95]);
}

#[test]
fn audio_and_images_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("tone.wav");
    make_video(&audio, "sine=frequency=440:duration=1", &[]);
    let output = Command::new(BIN)
        .args(["run", "frames"])
        .arg(&audio)
        .args(["--param", "interval_s=1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no video stream (it holds audio only)"),
        "{stderr}"
    );

    let output = Command::new(BIN)
        .args(["run", "frames"])
        .arg(fixture("../fixtures/vtest.avi").with_file_name("PROVENANCE.md"))
        .args(["--param", "interval_s=1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a readable video"));
}

#[test]
fn a_damaged_video_yields_what_it_can_or_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["run", "frames"])
        .arg(fixture("Megamind_bugy.avi"))
        .args(["--param", "interval_s=0.5", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap())
                .unwrap();
        assert!(!manifest["frames"].as_array().unwrap().is_empty());
    } else {
        assert!(stderr.contains("error:"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[tokio::test]
async fn cancelling_a_frames_job_leaves_no_ffmpeg_behind() {
    let dir = tempfile::tempdir().unwrap();
    let video = long_video(dir.path(), 40);
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("quinn@example.com").await;
    let job_id = &client.extracting_frames_job(&video).await;
    assert!(
        !ffmpeg_children(server.pid()).is_empty(),
        "ffmpeg should be running"
    );

    expect(
        client.post(&format!("/v1/jobs/{job_id}/cancel")).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let job = client
        .wait_until(job_id, Duration::from_secs(10), |job| {
            job["state"] == "cancelled"
        })
        .await;
    assert_eq!(job["artifacts"], json!([]));
    no_ffmpeg_left(server.pid()).await;
}

#[test]
fn the_cli_writes_the_zip_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, entries) = run_frames(&fixture("vtest.avi"), &["interval_s=2"], dir.path());
    assert_eq!(entries.len(), 40);
    assert_eq!(timestamps(&manifest)[39], 78.0);
    assert_eq!(manifest["strategy"], "single-pass");
}

#[tokio::test]
async fn frames_parameters_are_checked_at_submission() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "0"]);
    let client = server.user("rita@example.com").await;
    let upload_id = client.upload(&fixture("vtest.avi")).await;
    for (params, field) in [
        (json!({"interval_s": 1, "count": 3}), "params.count"),
        (json!({}), "params.interval_s"),
        (
            json!({"interval_s": 1, "start_s": 5, "end_s": 2}),
            "params.end_s",
        ),
        (json!({"interval_s": 0}), "params.interval_s"),
        (json!({"count": 3, "quality": 0}), "params.quality"),
        (json!({"count": 3, "format": "gif"}), "params.format"),
        (json!({"count": 3, "mode": "fast"}), "params.mode"),
    ] {
        let body = expect(
            client
                .post_json(
                    "/v1/jobs",
                    json!({"pipeline": "frames", "upload_id": upload_id, "params": params}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let fields = field_names(&body);
        assert!(fields.iter().any(|f| f == field), "{params}: {body}");
    }
}

#[test]
fn hardware_decoding_falls_back_to_software() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["run", "frames"])
        .arg(fixture("vtest.avi"))
        .args(["--param", "interval_s=10", "--hwaccel", "cuda", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["frames"].as_array().unwrap().len(), 8);
    // Without a GPU, the job says it decoded in software; with one, it just works.
    if let Some(warning) = manifest["warnings"].as_array().unwrap().first() {
        assert!(
            warning.as_str().unwrap().contains("decoded in software"),
            "{warning}"
        );
    }
}
