//! Still images out of a video, decoded and encoded by one ffmpeg per run:
//! seek (optionally), decode, keep only the wanted frames (`select`), encode
//! them as JPEG or PNG, and pipe them out one after the other.

use std::fmt::Write as _;
use std::path::Path;

use tokio::process::ChildStdout;

use crate::error::MediaError;
use crate::images::{ImageFormat, ImageSplitter};
use crate::process::{running, unless_stalled, wait_for_exit, Ffmpeg};

/// How far past the last wanted frame a run reads, seconds.
const READ_PAST_S: f64 = 1.0;

/// How close a decoded frame's time must be to a wanted time to match it.
const MATCH_TOLERANCE_S: f64 = 1e-4;

/// One stretch of decoding: seek to `seek_to` (when given), then keep the
/// frames whose presentation times are in `wanted` (sorted).
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractRun {
    pub seek_to: Option<f64>,
    pub wanted: Vec<f64>,
}

/// How the images are made.
#[derive(Debug, Clone)]
pub struct ImageOptions {
    pub format: ImageFormat,
    /// 1 (smallest) to 100 (best); JPEG only.
    pub quality: u8,
    pub max_width: Option<u32>,
    pub max_height: Option<u32>,
    /// Decode keyframes only (the wanted times must be keyframes).
    pub keyframes_only: bool,
    /// Decoder threads; `None` lets ffmpeg choose (one per core and then some).
    pub decoder_threads: Option<u32>,
    /// An ffmpeg `-hwaccel` method (for example `cuda`); check it with
    /// [`hwaccel_works`] first.
    pub hwaccel: Option<String>,
}

/// A frame turned into an image.
#[derive(Debug, Clone)]
pub struct ExtractedImage {
    /// Presentation time of the frame, seconds.
    pub pts: f64,
    pub bytes: Vec<u8>,
}

/// The images of one run as ffmpeg produces them. Dropping it kills ffmpeg.
pub struct ImageStream {
    ffmpeg: Option<Ffmpeg>,
    images: ImageSplitter<ChildStdout>,
    remaining: usize,
    _script: tempfile::TempPath,
}

/// Starts the run.
pub fn extract_images(
    input: &Path,
    run: &ExtractRun,
    options: &ImageOptions,
    scratch: &Path,
) -> Result<ImageStream, MediaError> {
    let script = select_script(&run.wanted, options, scratch)?;
    let mut args: Vec<String> = Vec::new();
    if let Some(method) = &options.hwaccel {
        args.extend(["-hwaccel".into(), method.clone()]);
    }
    if options.keyframes_only {
        args.extend(["-skip_frame".into(), "nokey".into()]);
    }
    if let Some(threads) = options.decoder_threads {
        args.extend(["-threads".into(), threads.to_string()]);
    }
    // Decoding starts at the keyframe before the seek point (no frame is
    // dropped before `select` sees it) and stops reading a little after the
    // last wanted frame, so a frame that never decodes cannot make the run
    // read on to the end of the file.
    let last = run.wanted.last().copied().unwrap_or(0.0);
    match run.seek_to {
        Some(seek) => args.extend([
            "-noaccurate_seek".into(),
            "-ss".into(),
            format!("{seek:.6}"),
            "-t".into(),
            format!("{:.6}", last - seek + READ_PAST_S),
        ]),
        None => args.extend(["-t".into(), format!("{:.6}", last.max(0.0) + READ_PAST_S)]),
    }
    args.extend(["-copyts".into(), "-i".into(), input.display().to_string()]);
    args.extend(["-an", "-sn", "-dn", "-fps_mode", "passthrough"].map(String::from));
    args.extend(["-filter_script:v".into(), script.display().to_string()]);
    match options.format {
        ImageFormat::Jpeg => args.extend([
            "-c:v".into(),
            "mjpeg".into(),
            "-pix_fmt".into(),
            "yuvj420p".into(),
            "-q:v".into(),
            jpeg_qscale(options.quality).to_string(),
        ]),
        ImageFormat::Png => args.extend(["-c:v", "png", "-pix_fmt", "rgb24"].map(String::from)),
    }
    args.extend(["-f", "image2pipe", "pipe:1"].map(String::from));
    let mut ffmpeg = Ffmpeg::spawn(&args, false)?;
    let stdout = ffmpeg
        .stdout
        .take()
        .ok_or_else(|| MediaError::Ffmpeg("ffmpeg started without a stdout pipe".to_owned()))?;
    Ok(ImageStream {
        ffmpeg: Some(ffmpeg),
        images: ImageSplitter::new(stdout, options.format),
        remaining: run.wanted.len(),
        _script: script,
    })
}

/// Whether ffmpeg can decode the first frame of `input` with `-hwaccel method`.
pub async fn hwaccel_works(input: &Path, method: &str) -> bool {
    let args: Vec<String> = vec![
        "-hwaccel".into(),
        method.into(),
        "-i".into(),
        input.display().to_string(),
        "-frames:v".into(),
        "1".into(),
        "-f".into(),
        "null".into(),
        "-".into(),
    ];
    match Ffmpeg::spawn(&args, false) {
        Ok(ffmpeg) => ffmpeg.wait().await.is_ok(),
        Err(_) => false,
    }
}

/// ffmpeg's JPEG scale runs from 2 (best) to 31; quality runs from 100 (best) to 1.
fn jpeg_qscale(quality: u8) -> u32 {
    let quality = quality.clamp(1, 100) as u32;
    2 + (100 - quality) * 29 / 99
}

/// An ffmpeg expression that is 1 when `t` is one of `wanted` (sorted, not
/// empty). It is a binary search of nested `if`s: ffmpeg's expressions nest at
/// most about a hundred deep, and each frame costs only log2(n) comparisons.
fn membership_test(wanted: &[f64], out: &mut String) {
    match wanted {
        [] => out.push('0'),
        [one] => {
            let _ = write!(
                out,
                "between(t,{:.6},{:.6})",
                one - MATCH_TOLERANCE_S,
                one + MATCH_TOLERANCE_S
            );
        }
        _ => {
            let middle = wanted.len() / 2;
            let boundary = (wanted[middle - 1] + wanted[middle]) / 2.0;
            let _ = write!(out, "if(lt(t,{boundary:.6}),");
            membership_test(&wanted[..middle], out);
            out.push(',');
            membership_test(&wanted[middle..], out);
            out.push(')');
        }
    }
}

/// The filter graph, written to a file because a long list of wanted times
/// would not fit on a command line.
fn select_script(
    wanted: &[f64],
    options: &ImageOptions,
    scratch: &Path,
) -> Result<tempfile::TempPath, MediaError> {
    let mut expression = String::new();
    membership_test(wanted, &mut expression);
    let mut graph = format!("select='{expression}',showinfo=checksum=0");
    if options.max_width.is_some() || options.max_height.is_some() {
        let width = options.max_width.map_or("iw".to_owned(), |w| w.to_string());
        let height = options
            .max_height
            .map_or("ih".to_owned(), |h| h.to_string());
        let _ = write!(
            graph,
            ",scale=w='min(iw,{width})':h='min(ih,{height})':force_original_aspect_ratio=decrease"
        );
    }
    let file = tempfile::Builder::new()
        .prefix("select-")
        .suffix(".txt")
        .tempfile_in(scratch)?;
    std::fs::write(file.path(), graph)?;
    Ok(file.into_temp_path())
}

impl ImageStream {
    /// The next wanted image, or `None` when the run is over. Frames that
    /// could not be decoded are simply missing: compare with what was wanted.
    pub async fn next(&mut self) -> Result<Option<ExtractedImage>, MediaError> {
        if self.remaining == 0 {
            if let Some(mut ffmpeg) = self.ffmpeg.take() {
                ffmpeg.kill().await;
            }
            return Ok(None);
        }
        let Some(bytes) = unless_stalled(self.images.next_image()).await? else {
            self.remaining = 0;
            return wait_for_exit(&mut self.ffmpeg).await.map(|()| None);
        };
        let pts = running(&mut self.ffmpeg)?.next_frame_time().await?;
        self.remaining -= 1;
        Ok(Some(ExtractedImage { pts, bytes }))
    }

    /// Seconds of video ffmpeg has written so far.
    pub fn progress_s(&self) -> f64 {
        self.ffmpeg
            .as_ref()
            .map_or(0.0, |ffmpeg| *ffmpeg.progress.borrow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_is_a_binary_search() {
        let mut expression = String::new();
        membership_test(&[1.0, 2.0, 3.0], &mut expression);
        assert_eq!(
            expression,
            "if(lt(t,1.500000),between(t,0.999900,1.000100),\
             if(lt(t,2.500000),between(t,1.999900,2.000100),between(t,2.999900,3.000100)))"
        );
    }

    #[test]
    fn quality_maps_onto_ffmpeg_scale() {
        assert_eq!(jpeg_qscale(100), 2);
        assert_eq!(jpeg_qscale(1), 31);
        assert!(jpeg_qscale(90) < jpeg_qscale(50));
    }
}
