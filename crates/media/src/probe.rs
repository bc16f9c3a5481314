//! `ffprobe` as a typed function: what a video file holds.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::process::Command;

use crate::error::MediaError;

/// How long ffprobe may take on one file before we give up on it.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// An audio stream of a media file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AudioStream {
    pub index: u32,
    pub codec: String,
    pub channels: Option<u32>,
    pub sample_rate: Option<u32>,
}

/// What ffprobe says about a video file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Probe {
    pub format: String,
    pub duration_s: Option<f64>,
    pub size_bytes: Option<u64>,
    pub bit_rate: Option<u64>,
    pub video_codec: String,
    pub width: u32,
    pub height: u32,
    /// Frames per second (the stream's average, else its nominal rate).
    pub frame_rate: Option<f64>,
    /// From the container when it says; else estimated from duration × rate.
    pub frame_count: Option<u64>,
    /// Clockwise degrees the picture must be turned to be upright (0, 90, 180, 270).
    pub rotation: i32,
    pub pixel_format: Option<String>,
    pub audio: Vec<AudioStream>,
    /// What ffprobe complained about while reading a file it could still read.
    pub warnings: Vec<String>,
}

/// Probes `path` with ffprobe.
pub async fn probe(path: &Path) -> Result<Probe, MediaError> {
    let (json, complaints) = ffprobe_json(path).await?;
    from_ffprobe_json(&json, complaints)
}

/// What ffprobe says of `path`'s format and streams, as JSON, and what it
/// complained about while reading a file it could still read.
pub(crate) async fn ffprobe_json(path: &Path) -> Result<(Value, Vec<String>), MediaError> {
    let child = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| MediaError::ToolMissing {
            tool: "ffprobe",
            reason: e.to_string(),
        })?;
    let output = tokio::time::timeout(PROBE_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| MediaError::Timeout(PROBE_TIMEOUT))?
        .map_err(|e| MediaError::ToolMissing {
            tool: "ffprobe",
            reason: e.to_string(),
        })?;
    let complaints = stderr_lines(&output.stderr, path);
    if !output.status.success() {
        let reason = complaints
            .last()
            .cloned()
            .unwrap_or_else(|| "ffprobe failed without saying why".to_owned());
        return Err(MediaError::Unreadable(reason));
    }
    let json: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| MediaError::Unreadable(format!("ffprobe gave unreadable output: {e}")))?;
    Ok((json, complaints))
}

/// ffprobe's stderr as lines a user can read: the file's path prefix removed.
fn stderr_lines(stderr: &[u8], path: &Path) -> Vec<String> {
    let prefix = format!("{}: ", path.display());
    String::from_utf8_lossy(stderr)
        .lines()
        .map(|line| line.trim().trim_start_matches(prefix.as_str()).to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

fn from_ffprobe_json(json: &Value, warnings: Vec<String>) -> Result<Probe, MediaError> {
    let streams = json["streams"].as_array().cloned().unwrap_or_default();
    let format = &json["format"];
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"] != 1)
        .ok_or_else(|| {
            let has_audio = streams.iter().any(|s| s["codec_type"] == "audio");
            MediaError::NoVideo(if has_audio {
                " (it holds audio only)".to_owned()
            } else {
                String::new()
            })
        })?;
    let width = number(&video["width"]).unwrap_or(0.0) as u32;
    let height = number(&video["height"]).unwrap_or(0.0) as u32;
    if width == 0 || height == 0 {
        return Err(MediaError::Unreadable(
            "the video stream has no picture size".to_owned(),
        ));
    }
    let duration_s = number(&format["duration"]).or_else(|| number(&video["duration"]));
    let frame_rate = rate(&video["avg_frame_rate"]).or_else(|| rate(&video["r_frame_rate"]));
    let frame_count = number(&video["nb_frames"])
        .map(|n| n as u64)
        .or_else(|| Some((duration_s? * frame_rate?).round() as u64));
    let is_still_image = format["format_name"]
        .as_str()
        .is_some_and(|f| f.contains("image2") || f.ends_with("_pipe"))
        || frame_count == Some(1) && duration_s.unwrap_or(0.0) < 0.1;
    if is_still_image {
        return Err(MediaError::NoVideo(
            " (it is a still image, not a video)".to_owned(),
        ));
    }
    Ok(Probe {
        format: text(&format["format_name"]).unwrap_or_default(),
        duration_s,
        size_bytes: number(&format["size"]).map(|n| n as u64),
        bit_rate: number(&format["bit_rate"]).map(|n| n as u64),
        video_codec: text(&video["codec_name"]).unwrap_or_default(),
        width,
        height,
        frame_rate,
        frame_count,
        rotation: rotation(video),
        pixel_format: text(&video["pix_fmt"]),
        audio: streams
            .iter()
            .filter(|s| s["codec_type"] == "audio")
            .map(|s| AudioStream {
                index: number(&s["index"]).unwrap_or(0.0) as u32,
                codec: text(&s["codec_name"]).unwrap_or_default(),
                channels: number(&s["channels"]).map(|n| n as u32),
                sample_rate: number(&s["sample_rate"]).map(|n| n as u32),
            })
            .collect(),
        warnings,
    })
}

/// ffprobe prints numbers sometimes as JSON numbers, sometimes as strings.
pub(crate) fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

/// A rate written as "num/den"; "0/0" means unknown.
fn rate(value: &Value) -> Option<f64> {
    let (num, den) = value.as_str()?.split_once('/')?;
    let (num, den): (f64, f64) = (num.parse().ok()?, den.parse().ok()?);
    (num > 0.0 && den > 0.0).then(|| num / den)
}

/// The display matrix gives the counter-clockwise angle the picture was
/// recorded at; older files carry a `rotate` tag instead.
fn rotation(video: &Value) -> i32 {
    let from_matrix = video["side_data_list"].as_array().and_then(|list| {
        list.iter()
            .find_map(|side| number(&side["rotation"]))
            .map(|ccw| -ccw)
    });
    let degrees = from_matrix
        .or_else(|| number(&video["tags"]["rotate"]))
        .unwrap_or(0.0);
    (degrees.round() as i32).rem_euclid(360)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_streams_rates_and_rotation() {
        let json = json!({
            "format": {"format_name": "mov,mp4", "duration": "10.0", "size": "1000"},
            "streams": [
                {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
                 "avg_frame_rate": "30000/1001", "r_frame_rate": "30/1",
                 "side_data_list": [{"rotation": -90}]},
                {"codec_type": "audio", "codec_name": "aac", "index": 1, "channels": 2,
                 "sample_rate": "48000"}
            ]
        });
        let probe = from_ffprobe_json(&json, vec![]).unwrap();
        assert_eq!((probe.width, probe.height), (1920, 1080));
        assert!((probe.frame_rate.unwrap() - 29.97).abs() < 0.01);
        assert_eq!(probe.frame_count, Some(300));
        assert_eq!(probe.rotation, 90);
        assert_eq!(probe.audio.len(), 1);
    }

    #[test]
    fn audio_only_is_no_video() {
        let json = json!({
            "format": {"format_name": "wav"},
            "streams": [{"codec_type": "audio", "codec_name": "pcm_s16le"}]
        });
        let err = from_ffprobe_json(&json, vec![]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file has no video stream (it holds audio only)"
        );
    }
}
