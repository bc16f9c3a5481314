//! RGB frames in, an H.264 MP4 out (yuv420p, `+faststart`, so it plays in
//! browsers and streams), optionally with the audio of another file.

use std::path::Path;

use tokio::io::AsyncWriteExt;
use tokio::process::ChildStdin;

use crate::error::MediaError;
use crate::process::Ffmpeg;

/// Writes frames to ffmpeg; `finish` waits for the file to be complete.
pub struct FrameEncoder {
    /// `None` once ffmpeg has exited on its own.
    ffmpeg: Option<Ffmpeg>,
    /// `None` once ffmpeg has stopped reading frames.
    stdin: Option<ChildStdin>,
    frame_len: usize,
}

impl FrameEncoder {
    /// Starts encoding `width`×`height` RGB24 frames at `fps` into `output`,
    /// with the audio of `audio_from` when given.
    pub fn create(
        output: &Path,
        width: u32,
        height: u32,
        fps: f64,
        audio_from: Option<&Path>,
    ) -> Result<Self, MediaError> {
        let mut args: Vec<String> = vec![
            "-f".into(),
            "rawvideo".into(),
            "-pix_fmt".into(),
            "rgb24".into(),
            "-s".into(),
            format!("{width}x{height}"),
            "-framerate".into(),
            format!("{fps}"),
            "-i".into(),
            "pipe:0".into(),
        ];
        if let Some(audio) = audio_from {
            args.extend(["-i".into(), audio.display().to_string()]);
            args.extend(
                [
                    "-map",
                    "0:v:0",
                    "-map",
                    "1:a:0?",
                    "-c:a",
                    "aac",
                    "-shortest",
                ]
                .map(String::from),
            );
        }
        args.extend(
            [
                "-vf",
                "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "20",
                "-pix_fmt",
                "yuv420p",
                "-movflags",
                "+faststart",
                "-y",
            ]
            .map(String::from),
        );
        args.push(output.display().to_string());
        let mut ffmpeg = Ffmpeg::spawn(&args, true)?;
        let stdin = ffmpeg
            .stdin
            .take()
            .ok_or_else(|| MediaError::Ffmpeg("ffmpeg started without a stdin pipe".to_owned()))?;
        Ok(Self {
            ffmpeg: Some(ffmpeg),
            stdin: Some(stdin),
            frame_len: width as usize * height as usize * 3,
        })
    }

    /// Writes one frame (packed RGB24 of the size given at creation).
    pub async fn write_frame(&mut self, rgb: &[u8]) -> Result<(), MediaError> {
        if rgb.len() != self.frame_len {
            return Err(MediaError::Ffmpeg(format!(
                "a frame has {} bytes, not the {} its size needs",
                rgb.len(),
                self.frame_len
            )));
        }
        let Some(stdin) = self.stdin.as_mut() else {
            // ffmpeg ended the file itself (`-shortest`: the audio ran out).
            return Ok(());
        };
        match stdin.write_all(rgb).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.stopped_reading().await,
            Err(e) => Err(e.into()),
        }
    }

    /// ffmpeg closed its input: with `-shortest` it may have finished the
    /// file (the audio ended first), which is success, and later frames go
    /// nowhere; otherwise it failed, and the error says how in its words.
    async fn stopped_reading(&mut self) -> Result<(), MediaError> {
        self.stdin = None;
        let Some(ffmpeg) = self.ffmpeg.take() else {
            return Ok(());
        };
        let (status, said) = ffmpeg.exit().await?;
        if status.success() {
            return Ok(());
        }
        if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
            return Err(MediaError::Killed(signal));
        }
        // Still a pipe error (tried again): ffmpeg failing mid-encode is
        // more often the machine (memory, threads) than the frames.
        Err(MediaError::Pipe(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            format!("ffmpeg stopped reading frames ({status}): {said}"),
        )))
    }

    /// Closes the input and waits until the file is written.
    pub async fn finish(mut self) -> Result<(), MediaError> {
        if let Some(mut stdin) = self.stdin.take() {
            stdin.shutdown().await?;
        }
        match self.ffmpeg.take() {
            Some(ffmpeg) => ffmpeg.wait().await,
            None => Ok(()),
        }
    }
}
