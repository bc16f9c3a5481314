//! The `render` pipeline on real media, decoded back with ffmpeg: the
//! frames its timeline says, a zoom that grows steadily, a crossfade that
//! mixes two scenes, captions where and when their ASS says, music lower
//! under speech, the mix at −14 LUFS; specs refused with the field at
//! fault; a cancelled render leaves no ffmpeg behind.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{
    expect, ffmpeg_children, field_names, fixture, make_video, no_ffmpeg_left, read_json,
    run_pipeline, run_succeeds, Server,
};

const WIDTH: usize = 360;
const HEIGHT: usize = 640;
const FPS: f64 = 20.0;

/// What ffmpeg printed on stderr for `args`, which must succeed.
fn ffmpeg_says(args: &[&str]) -> String {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Frame `n` of `video` as grey levels, row by row.
fn grey_frame(video: &Path, n: u64) -> Vec<u8> {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(video)
        .args([
            "-vf",
            &format!("select=eq(n\\,{n}),format=gray"),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout.len(), WIDTH * HEIGHT, "frame {n}");
    output.stdout
}

/// Frames in `video`, counted by decoding it.
fn decoded_frames(video: &Path) -> u64 {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(video)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

/// The mean level (dB) of `video`'s sound near 5 kHz, the music's tone,
/// between `start` and `end` seconds.
fn tone_level(video: &Path, start: f64, end: f64) -> f64 {
    let said = ffmpeg_says(&[
        "-ss",
        &format!("{start:.3}"),
        "-t",
        &format!("{:.3}", end - start),
        "-i",
        video.to_str().unwrap(),
        "-af",
        "bandpass=f=5000:width_type=h:w=300,volumedetect",
        "-f",
        "null",
        "-",
    ]);
    number_after(&said, "mean_volume:")
}

/// The integrated loudness (LUFS) of `video`'s sound.
fn loudness(video: &Path) -> f64 {
    let said = ffmpeg_says(&[
        "-i",
        video.to_str().unwrap(),
        "-af",
        "ebur128",
        "-f",
        "null",
        "-",
    ]);
    let summary = &said[said.rfind("Summary:").unwrap()..];
    number_after(summary, "I:")
}

fn number_after(text: &str, key: &str) -> f64 {
    let rest = &text[text
        .rfind(key)
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        + key.len()..];
    rest.split_whitespace().next().unwrap().parse().unwrap()
}

/// How wide the dark run across the middle row of a frame is.
fn dark_width(frame: &[u8]) -> usize {
    let row = &frame[HEIGHT / 2 * WIDTH..(HEIGHT / 2 + 1) * WIDTH];
    row.iter().filter(|&&level| level < 100).count()
}

/// Bright pixels in the band where bottom captions sit.
fn caption_pixels(frame: &[u8]) -> usize {
    let bottom = HEIGHT - HEIGHT * 22 / 100;
    let top = bottom - 60;
    frame[top * WIDTH..bottom * WIDTH]
        .iter()
        .filter(|&&level| level > 150)
        .count()
}

/// A white still with a black square in its middle, a 2-second clip of
/// pedestrians, a tone for music: the media of the spec below.
fn make_media(dir: &Path) {
    make_video(
        &dir.join("square.png"),
        "color=white:s=720x1280,drawbox=x=300:y=580:w=120:h=120:color=black:t=fill",
        &["-frames:v", "1"],
    );
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(fixture("vtest.avi"))
        .args(["-t", "2", "-an"])
        .arg(dir.join("walkers.mp4"))
        .status()
        .unwrap();
    assert!(status.success());
    make_video(
        &dir.join("music.wav"),
        "sine=frequency=5000:duration=4:sample_rate=48000",
        &[],
    );
}

#[test]
fn a_render_keeps_its_timeline_its_pictures_and_its_sound() {
    let dir = tempfile::tempdir().unwrap();
    make_media(dir.path());
    let spec = json!({
        "width": WIDTH, "height": HEIGHT, "fps": FPS,
        "scenes": [
            {"image": "square.png", "duration_s": 2, "motion": "zoom_in"},
            {"narration": "Apple. Orange. Lemon. Mango."},
            {"video": "walkers.mp4", "durationSeconds": 3},
            {"image": fixture("astronaut.png"), "duration": 2, "motion": "pan_left"}
        ],
        "music": "music.wav",
        "transition": {"kind": "crossfade", "duration_s": 0.5},
        "captions": {"words_per_caption": 2}
    });
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let out = dir.path().join("out");
    let out = run_succeeds(run_pipeline("render", &spec_path, &[], &out), &out);
    let video = out.join("render.mp4");
    let timeline = read_json(&out.join("timeline.json"));
    let scenes = timeline["scenes"].as_array().unwrap();
    let start = |i: usize| scenes[i]["start_frame"].as_u64().unwrap();
    let seconds = |i: usize, key: &str| scenes[i][key].as_f64().unwrap();

    // The frames and length the timeline says: 40 + 10 fade frames of the
    // square, the narration's, 60 and 40, each fade shared by two scenes.
    let frames = timeline["frames"].as_u64().unwrap();
    assert_eq!(decoded_frames(&video), frames);
    assert_eq!(start(1), 30);
    assert_eq!(start(3) - start(2), 50);
    assert_eq!(frames, start(3) + 40);
    for artifact in ["thumbnail.jpg", "captions.ass", "captions.vtt"] {
        assert!(out.join(artifact).is_file(), "{artifact}");
    }
    let srt = std::fs::read_to_string(out.join("captions.srt")).unwrap();
    assert!(
        srt.contains("Apple. Orange.") || srt.contains("Apple."),
        "{srt}"
    );

    // The square grows steadily while the still zooms in.
    let widths: Vec<usize> = (0..30)
        .step_by(5)
        .map(|n| dark_width(&grey_frame(&video, n)))
        .collect();
    assert!(widths.windows(2).all(|w| w[0] <= w[1]), "{widths:?}");
    assert!(widths[5] >= widths[0] + 5, "{widths:?}");

    // Half-way through the crossfade the picture is half of each scene
    // (compared above the captions).
    let upper = WIDTH * HEIGHT / 2;
    let before = grey_frame(&video, start(1) - 1);
    let after = grey_frame(&video, start(1) + 10);
    let middle = grey_frame(&video, start(1) + 5);
    let (mut off_mix, mut apart) = (0.0, 0.0);
    for i in 0..upper {
        let (a, b, m) = (
            f64::from(before[i]),
            f64::from(after[i]),
            f64::from(middle[i]),
        );
        off_mix += (m - (a + b) / 2.0).abs();
        apart += (a - b).abs();
    }
    assert!(
        apart > 0.0 && off_mix < apart * 0.25,
        "{off_mix} against {apart}"
    );

    // The first caption is drawn while its words are said, and nothing is
    // drawn in the same place once the narration is over.
    let caption = &timeline["captions"][0];
    let inside = (caption["start"].as_f64().unwrap() + caption["end"].as_f64().unwrap()) / 2.0;
    let shown = caption_pixels(&grey_frame(&video, (inside * FPS) as u64));
    assert!(shown > 40, "{shown} caption pixels at {inside} s");
    let narration_end = seconds(1, "start_s") + seconds(1, "narration_s");
    let after_words = grey_frame(&video, ((narration_end + 0.2) * FPS) as u64);
    assert_eq!(caption_pixels(&after_words), 0);

    // The music is lower under speech than where no one speaks.
    let under_speech = tone_level(&video, seconds(1, "start_s") + 0.6, narration_end - 0.2);
    let alone = tone_level(
        &video,
        seconds(2, "start_s") + 0.6,
        seconds(2, "end_s") - 0.6,
    );
    assert!(
        under_speech < alone - 3.0,
        "{under_speech} dB under speech, {alone} dB alone"
    );

    let integrated = loudness(&video);
    assert!((integrated + 14.0).abs() <= 1.0, "{integrated} LUFS");
}

#[tokio::test]
async fn render_specs_are_refused_with_the_field_at_fault() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let owner = server.user("maker@example.com").await;
    let other = server.user("other-maker@example.com").await;
    let photo = owner.upload(&fixture("messi5.jpg")).await;
    let theirs = other.upload(&fixture("messi5.jpg")).await;
    let table = expect(
        owner
            .upload_bytes("numbers.csv", b"a,b\n1,2\n".to_vec())
            .await,
        StatusCode::CREATED,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scene = |image: &str| json!([{"image": image, "duration_s": 2}]);
    let cases = [
        (json!({"scenes": scene(&theirs)}), "params.scenes.0.image"),
        (json!({"scenes": scene(&table)}), "params.scenes.0.image"),
        (
            json!({"scenes": [{"audio": photo}]}),
            "params.scenes.0.audio",
        ),
        (
            json!({"scenes": scene(&photo), "music": table}),
            "params.music",
        ),
        (json!({"scenes": []}), "params.scenes"),
        (
            json!({"scenes": scene(&photo), "width": 1081}),
            "params.width",
        ),
        (
            json!({"scenes": scene(&photo), "height": 4098}),
            "params.height",
        ),
        (json!({"scenes": scene(&photo), "fps": 0}), "params.fps"),
        (json!({"scenes": scene(&photo), "fps": 61}), "params.fps"),
        (
            json!({"scenes": scene(&photo), "captions": {"font": "Comic Sans"}}),
            "params.captions.font",
        ),
        (
            json!({"scenes": [{"image": photo, "video": photo}]}),
            "params.scenes.0.video",
        ),
    ];
    for (params, field) in cases {
        let refused = owner
            .post_json("/v1/jobs", json!({"pipeline": "render", "params": params}))
            .await;
        let body = expect(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            field_names(&body),
            vec![field.to_owned()],
            "{params}: {body}"
        );
    }
    let accepted = owner
        .post_json(
            "/v1/jobs",
            json!({"pipeline": "render", "params": {"scenes": scene(&photo)}}),
        )
        .await;
    expect(accepted, StatusCode::ACCEPTED).await;
    // The photo stays while the render waits for a worker.
    let in_use = owner.delete(&format!("/v1/uploads/{photo}")).await;
    assert_eq!(in_use.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn cancelling_a_render_leaves_no_ffmpeg_behind() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("cutter@example.com").await;
    let photo = client.upload(&fixture("basketball1.png")).await;
    let job = client
        .submit(json!({"pipeline": "render", "params": {
            "scenes": [{"image": photo, "duration_s": 600, "motion": "zoom_in"}]
        }}))
        .await;
    let job_id = job["id"].as_str().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while ffmpeg_children(server.pid()).is_empty() {
        assert!(std::time::Instant::now() < deadline, "ffmpeg never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    expect(
        client.post(&format!("/v1/jobs/{job_id}/cancel")).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let ended = client
        .wait_until(job_id, Duration::from_secs(10), |job| {
            job["state"] == "cancelled"
        })
        .await;
    assert_eq!(ended["artifacts"], json!([]));
    no_ffmpeg_left(server.pid()).await;
}

#[test]
fn the_command_line_says_which_spec_field_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, json!({"scenes": [], "fps": 90}).to_string()).unwrap();
    let output = run_pipeline("render", &spec_path, &[], &dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("params.scenes") && said.contains("params.fps"),
        "{said}"
    );
}
