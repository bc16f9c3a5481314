//! Frames written with the encoder come back from the reader: real ffmpeg both ways.

use std::path::Path;
use std::process::Command;

use kinoflow_media::{probe, FrameEncoder, FrameReader, FrameReaderOptions};

const COLOURS: [[u8; 3]; 3] = [[220, 30, 30], [30, 220, 30], [30, 30, 220]];

async fn write_colours(path: &Path, audio: Option<&Path>) {
    let mut encoder = FrameEncoder::create(path, 64, 48, 10.0, audio).unwrap();
    for colour in COLOURS {
        let frame: Vec<u8> = colour.iter().copied().cycle().take(64 * 48 * 3).collect();
        for _ in 0..10 {
            encoder.write_frame(&frame).await.unwrap();
        }
    }
    encoder.finish().await.unwrap();
}

/// A sine tone of `seconds` written to `path`.
fn tone(path: &Path, seconds: f64) -> std::path::PathBuf {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={seconds}"))
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
    path.to_owned()
}

#[tokio::test]
async fn encoded_frames_read_back_with_their_times() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("colours.mp4");
    write_colours(&video, None).await;

    let probed = probe(&video).await.unwrap();
    assert_eq!((probed.width, probed.height), (64, 48));
    assert_eq!(probed.video_codec, "h264");
    assert_eq!(probed.pixel_format.as_deref(), Some("yuv420p"));
    assert!((probed.duration_s.unwrap() - 3.0).abs() < 0.05);

    let mut reader = FrameReader::open(&video, &probed, &FrameReaderOptions::default()).unwrap();
    let mut count = 0;
    while let Some(frame) = reader.next().await.unwrap() {
        assert!(
            (frame.pts - count as f64 / 10.0).abs() < 1e-3,
            "{}",
            frame.pts
        );
        let expected = COLOURS[count / 10];
        let centre = (24 * 64 + 32) * 3;
        for (got, want) in frame.data[centre..centre + 3].iter().zip(expected) {
            assert!((*got as i32 - want as i32).abs() < 25, "frame {count}");
        }
        count += 1;
    }
    assert_eq!(count, 30);

    let half = FrameReaderOptions {
        max_width: Some(32),
        fps: Some(5.0),
        ..FrameReaderOptions::default()
    };
    let mut reader = FrameReader::open(&video, &probed, &half).unwrap();
    assert_eq!((reader.width, reader.height), (32, 24));
    let mut frames = 0;
    while reader.next().await.unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, 15);
}

#[tokio::test]
async fn audio_is_carried_over_from_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let tone = tone(&dir.path().join("tone.wav"), 3.0);
    let video = dir.path().join("with-audio.mp4");
    write_colours(&video, Some(&tone)).await;
    let probed = probe(&video).await.unwrap();
    assert_eq!(probed.audio.len(), 1);
    assert_eq!(probed.audio[0].codec, "aac");
}

#[tokio::test]
async fn a_wrong_frame_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut encoder = FrameEncoder::create(&dir.path().join("x.mp4"), 8, 8, 10.0, None).unwrap();
    assert!(encoder.write_frame(&[0u8; 10]).await.is_err());
}

/// ffmpeg ends the file when the shorter audio ends (`-shortest`) and stops
/// reading: a writer slower than ffmpeg (a busy machine) then meets a closed
/// pipe, which is the file being done, not a failure.
#[tokio::test]
async fn audio_shorter_than_the_frames_ends_the_file_without_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let tone = tone(&dir.path().join("short.wav"), 0.3);
    let video = dir.path().join("cut.mp4");
    let mut encoder = FrameEncoder::create(&video, 64, 48, 10.0, Some(&tone)).unwrap();
    let frame = vec![128u8; 64 * 48 * 3];
    for _ in 0..300 {
        encoder.write_frame(&frame).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    encoder.finish().await.unwrap();
    let probed = probe(&video).await.unwrap();
    assert!(probed.duration_s.unwrap() < 2.0, "{:?}", probed.duration_s);
}
