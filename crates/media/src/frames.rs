//! Raw RGB frames out of a video, each with its presentation time, through a
//! pipe from ffmpeg: what analyses that look at pixels read.

use std::path::Path;

use tokio::io::AsyncReadExt;
use tokio::process::ChildStdout;

use crate::error::MediaError;
use crate::probe::Probe;
use crate::process::{running, unless_stalled, wait_for_exit, Ffmpeg};

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct FrameReaderOptions {
    /// Scale so that the frame fits in this box, keeping the aspect ratio.
    pub max_width: Option<u32>,
    pub max_height: Option<u32>,
    /// Resample to this many frames per second.
    pub fps: Option<f64>,
    /// Start here (seconds) instead of at the beginning.
    pub start_s: Option<f64>,
}

/// One decoded frame, upright, as packed RGB24.
#[derive(Debug, Clone)]
pub struct RgbFrame {
    pub pts: f64,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// Reads frames one by one; dropping it kills ffmpeg.
pub struct FrameReader {
    ffmpeg: Option<Ffmpeg>,
    stdout: ChildStdout,
    pub width: u32,
    pub height: u32,
}

impl FrameReader {
    /// Starts decoding `input`, whose probe is `probe`.
    pub fn open(
        input: &Path,
        probe: &Probe,
        options: &FrameReaderOptions,
    ) -> Result<Self, MediaError> {
        let (width, height) = output_size(probe, options);
        let mut filters = Vec::new();
        if let Some(fps) = options.fps {
            filters.push(format!("fps={fps}"));
        }
        filters.push("showinfo=checksum=0".to_owned());
        filters.push(format!("scale={width}:{height}"));
        let mut args: Vec<String> = Vec::new();
        if let Some(start) = options.start_s {
            args.extend(["-ss".into(), format!("{start:.6}")]);
        }
        args.extend(["-copyts".into(), "-i".into(), input.display().to_string()]);
        args.extend(["-an", "-sn", "-dn", "-fps_mode", "passthrough"].map(String::from));
        args.extend(["-vf".into(), filters.join(",")]);
        args.extend(["-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"].map(String::from));
        let mut ffmpeg = Ffmpeg::spawn(&args, false)?;
        let stdout = ffmpeg
            .stdout
            .take()
            .ok_or_else(|| MediaError::Ffmpeg("ffmpeg started without a stdout pipe".to_owned()))?;
        Ok(Self {
            ffmpeg: Some(ffmpeg),
            stdout,
            width,
            height,
        })
    }

    /// The next frame, or `None` at the end of the video.
    pub async fn next(&mut self) -> Result<Option<RgbFrame>, MediaError> {
        let mut data = vec![0u8; self.width as usize * self.height as usize * 3];
        let filled = unless_stalled(fill(&mut self.stdout, &mut data)).await?;
        if filled < data.len() {
            return wait_for_exit(&mut self.ffmpeg).await.map(|()| None);
        }
        let pts = running(&mut self.ffmpeg)?.next_frame_time().await?;
        Ok(Some(RgbFrame {
            pts,
            width: self.width,
            height: self.height,
            data,
        }))
    }
}

/// Reads until `data` is full or the stream ends; returns how much was read.
async fn fill(stdout: &mut ChildStdout, data: &mut [u8]) -> Result<usize, MediaError> {
    let mut filled = 0;
    while filled < data.len() {
        let n = stdout.read(&mut data[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// The upright size, scaled down to fit the box; even, as most encoders want.
pub fn output_size(probe: &Probe, options: &FrameReaderOptions) -> (u32, u32) {
    let (width, height) = if probe.rotation % 180 == 90 {
        (probe.height, probe.width)
    } else {
        (probe.width, probe.height)
    };
    let scale_w = options.max_width.map_or(1.0, |w| w as f64 / width as f64);
    let scale_h = options.max_height.map_or(1.0, |h| h as f64 / height as f64);
    let scale = scale_w.min(scale_h).min(1.0);
    let even = |v: f64| ((v / 2.0).round() as u32 * 2).max(2);
    (even(width as f64 * scale), even(height as f64 * scale))
}
