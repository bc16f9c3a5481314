//! The `emotion` pipeline on real faces: a smiling person under a slow zoom
//! (one person, happy), two people side by side (two ids that never swap), a
//! video without a face, a damaged video; its parameters refused clearly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{expect, fixture, make_video, read_json, run_pipeline, Server};

/// `kinoflow run emotion` on `video` with `params`, artifacts into `out`.
fn run_emotion(video: &Path, params: &[&str], out: &Path) -> Output {
    run_pipeline("emotion", video, params, out)
        .output()
        .unwrap()
}

fn succeeded(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

/// `astronaut.png` (a smiling woman) as a 640×480, 25 fps video of `frames`
/// frames in a slow zoom (1.0 → 1.3) and pan, as the pose fixture was made.
pub(crate) fn astronaut_video(dir: &Path, frames: u32) -> PathBuf {
    let path = dir.join("astronaut.mp4");
    let last = frames - 1;
    let graph = format!(
        "movie={}:loop=0,setpts=N/25/TB,scale=2048:2048,zoompan=z='1+0.3*on/{last}':x='(iw-iw/zoom)*0.5*on/{last}':y='(ih-ih/zoom)*0.3':d=1:s=640x480:fps=25,format=yuv420p",
        fixture("astronaut.png").display()
    );
    make_video(&path, &graph, &["-frames:v", &frames.to_string()]);
    path
}

/// Two people side by side, each drifting a little: the astronaut on the
/// left, the footballer of `messi5.jpg` (his head and shoulders) on the
/// right; 640×360, 25 fps.
fn two_people_video(dir: &Path, frames: u32) -> PathBuf {
    let path = dir.join("two-people.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i"])
        .arg(fixture("astronaut.png"))
        .args(["-loop", "1", "-framerate", "25", "-i"])
        .arg(fixture("messi5.jpg"))
        .args(["-f", "lavfi", "-i", "color=c=gray:s=640x360:r=25"])
        .args(["-filter_complex", TWO_PEOPLE_GRAPH])
        .args(["-frames:v", &frames.to_string()])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path
}

/// The two photos, 300 pixels square, over a grey background, drifting.
const TWO_PEOPLE_GRAPH: &str = "[0]scale=300:300[a];[1]crop=200:200:140:13,scale=300:300[b];\
    [2][a]overlay=x='10+10*sin(t)':y=30[l];[l][b]overlay=x='330-10*sin(t)':y=30,format=yuv420p";

/// The rows of `emotions.csv` as (time, face id, box left).
fn rows(out: &Path) -> Vec<(f64, u64, f64)> {
    let csv = std::fs::read_to_string(out.join("emotions.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert_eq!(
        header,
        "frame,time_s,face_id,x,y,w,h,score,angry,disgust,fear,happy,sad,surprise,neutral,label"
    );
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (
                cells[1].parse().unwrap(),
                cells[2].parse().unwrap(),
                cells[3].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_smiling_person_is_one_happy_person_in_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let video = astronaut_video(dir.path(), 75);
    let out = dir.path().join("out");
    succeeded(&run_emotion(&video, &["sample_fps=0"], &out));

    let summary = read_json(&out.join("summary.json"));
    let persons = summary["persons"].as_array().unwrap();
    assert_eq!(persons.len(), 1, "{summary}");
    assert_eq!(persons[0]["face_id"], 1);
    assert_eq!(persons[0]["dominant_emotion"], "happy");
    let analysed = summary["frames_analysed"].as_f64().unwrap();
    assert_eq!(analysed, 75.0);
    // No false faces: one face in (nearly) every frame, never two.
    let rows = rows(&out);
    assert!(rows.len() as f64 >= 0.98 * analysed, "{} rows", rows.len());
    let mut times: Vec<f64> = rows.iter().map(|r| r.0).collect();
    times.dedup();
    assert_eq!(times.len(), rows.len(), "a frame had two faces");
    assert_eq!(summary["inference"], "onnxruntime");

    let timeline = read_json(&out.join("timeline.json"));
    let person = &timeline["persons"][0];
    assert_eq!(person["times_s"].as_array().unwrap().len(), rows.len());
    assert_eq!(
        person["probabilities"]["happy"].as_array().unwrap().len(),
        rows.len()
    );
    assert_eq!(person["segments"][0]["emotion"], "happy");

    let chart = std::fs::read(out.join("chart_emotions.png")).unwrap();
    assert!(chart.starts_with(b"\x89PNG"));
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(out.join("overlay.mp4"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "75");
}

#[test]
fn two_people_side_by_side_keep_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let video = two_people_video(dir.path(), 50);
    let out = dir.path().join("out");
    succeeded(&run_emotion(
        &video,
        &["overlay=false", "sample_fps=10"],
        &out,
    ));

    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["persons"].as_array().unwrap().len(), 2, "{summary}");
    let rows = rows(&out);
    assert!(rows.len() >= 2 * 18, "{} rows", rows.len());
    // Whoever got an id first keeps it, on their own side, in every frame.
    let left_id = rows.iter().find(|r| r.2 < 320.0).unwrap().1;
    let persons = summary["persons"].as_array().unwrap();
    let astronaut = persons.iter().find(|p| p["face_id"] == left_id).unwrap();
    assert_eq!(astronaut["dominant_emotion"], "happy");
    for (time, id, left) in rows {
        assert_eq!(id == left_id, left < 320.0, "ids swapped at {time} s");
    }
}

#[test]
fn a_video_without_a_face_succeeds_with_a_warning_and_empty_series() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("nobody.mp4");
    make_video(&video, "testsrc2=s=320x240:r=25:d=1", &[]);
    let out = dir.path().join("out");
    let stderr = succeeded(&run_emotion(&video, &[], &out));
    assert!(stderr.contains("no face was found"), "{stderr}");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["persons"], json!([]));
    assert_eq!(summary["frames_with_faces"], 0);
    assert!(rows(&out).is_empty());
    assert_eq!(read_json(&out.join("timeline.json"))["persons"], json!([]));
    assert!(out.join("chart_emotions.png").is_file());
}

#[test]
fn a_damaged_video_fails_clearly_or_yields_what_could_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_emotion(
        &fixture("Megamind_bugy.avi"),
        &["overlay=false", "sample_fps=2"],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if output.status.success() {
        assert!(
            read_json(&dir.path().join("summary.json"))["frames"]
                .as_u64()
                .unwrap()
                > 0
        );
    } else {
        assert!(stderr.contains("error:"), "{stderr}");
    }
}

#[tokio::test]
async fn bad_emotion_parameters_are_refused_one_message_per_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let client = server.user("ines@example.com").await;
    let upload = client.upload(&fixture("messi_zoompan.mp4")).await;
    let response = client
        .post_json(
            "/v1/jobs",
            json!({"pipeline": "emotion", "upload_id": upload,
                   "params": {"min_face_px": 2, "sample_fps": -1, "smooth_s": "long"}}),
        )
        .await;
    let body = expect(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let text = body.to_string();
    for field in ["min_face_px", "sample_fps", "smooth_s"] {
        assert!(text.contains(field), "{field} not named: {text}");
    }
}
