//! What kind of media a file is — a still image, a video, a sound — with
//! its length and picture size: what a render needs to know of the media a
//! spec names, where [`crate::probe`] wants a video.

use std::path::Path;

use serde_json::Value;

use crate::error::MediaError;
use crate::probe::{ffprobe_json, number};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "an image",
            MediaKind::Video => "a video",
            MediaKind::Audio => "audio",
        }
    }
}

/// A media file as ffprobe sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    pub kind: MediaKind,
    /// Seconds, for videos and sounds.
    pub duration_s: Option<f64>,
    /// Pixels, for images and videos.
    pub width: u32,
    pub height: u32,
    pub has_audio: bool,
}

/// Codecs that hold one still picture.
const IMAGE_CODECS: [&str; 8] = [
    "png", "mjpeg", "webp", "bmp", "tiff", "gif", "jpeg2000", "qoi",
];

/// Inspects `path` with ffprobe: an error when it is none of the three.
pub async fn inspect(path: &Path) -> Result<MediaInfo, MediaError> {
    let (json, _) = ffprobe_json(path).await?;
    from_streams(&json)
}

fn from_streams(json: &Value) -> Result<MediaInfo, MediaError> {
    let streams = json["streams"].as_array().cloned().unwrap_or_default();
    let format = &json["format"];
    let format_name = format["format_name"].as_str().unwrap_or_default();
    let picture = streams
        .iter()
        .find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"] != 1);
    let has_audio = streams.iter().any(|s| s["codec_type"] == "audio");
    let duration_s = number(&format["duration"]).filter(|d| *d > 0.0);
    let Some(picture) = picture else {
        return if has_audio {
            Ok(MediaInfo {
                kind: MediaKind::Audio,
                duration_s,
                width: 0,
                height: 0,
                has_audio,
            })
        } else {
            Err(MediaError::Unreadable(
                "it holds no picture and no sound".to_owned(),
            ))
        };
    };
    let codec = picture["codec_name"].as_str().unwrap_or_default();
    let frames = number(&picture["nb_frames"]);
    let still = format_name.contains("image2")
        || format_name.ends_with("_pipe")
        || (IMAGE_CODECS.contains(&codec) && frames.is_none_or(|n| n <= 1.0));
    let width = number(&picture["width"]).unwrap_or(0.0) as u32;
    let height = number(&picture["height"]).unwrap_or(0.0) as u32;
    if width == 0 || height == 0 {
        return Err(MediaError::Unreadable("its picture has no size".to_owned()));
    }
    Ok(MediaInfo {
        kind: if still {
            MediaKind::Image
        } else {
            MediaKind::Video
        },
        duration_s: if still { None } else { duration_s },
        width,
        height,
        has_audio,
    })
}
