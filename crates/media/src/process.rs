//! An ffmpeg child process: killed when dropped, its stderr read as it comes
//! so that frame timestamps (from `showinfo`) and progress (from `-progress`)
//! reach the caller, and a failure becomes one readable sentence.

use std::collections::VecDeque;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::MediaError;

/// How many of ffmpeg's last complaint lines are kept for the error message.
const KEPT_LINES: usize = 12;

/// A running ffmpeg.
pub(crate) struct Ffmpeg {
    child: Child,
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<ChildStdout>,
    /// Presentation times of frames that passed a `showinfo` filter, in order.
    pub frame_times: mpsc::UnboundedReceiver<f64>,
    /// Seconds of media written so far, from `-progress`.
    pub progress: watch::Receiver<f64>,
    complaints: JoinHandle<VecDeque<String>>,
}

impl Ffmpeg {
    /// Starts `ffmpeg` with `args` (after the options every run shares).
    pub fn spawn(args: &[String], with_stdin: bool) -> Result<Self, MediaError> {
        let mut child = Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"])
            .args(["-progress", "pipe:2"])
            .args(args)
            .stdin(if with_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| MediaError::ToolMissing {
                tool: "ffmpeg",
                reason: e.to_string(),
            })?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| MediaError::Ffmpeg("ffmpeg started without a stderr pipe".to_owned()))?;
        let (times_tx, frame_times) = mpsc::unbounded_channel();
        let (progress_tx, progress) = watch::channel(0.0);
        let complaints = tokio::spawn(read_stderr(stderr, times_tx, progress_tx));
        Ok(Self {
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            child,
            frame_times,
            progress,
            complaints,
        })
    }

    /// The presentation time of the next frame ffmpeg put out.
    pub async fn next_frame_time(&mut self) -> Result<f64, MediaError> {
        self.frame_times.recv().await.ok_or_else(|| {
            MediaError::Ffmpeg("ffmpeg put out a frame without its timestamp".to_owned())
        })
    }

    /// Stops ffmpeg now (used once we have what we wanted).
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Waits for ffmpeg to exit; a failure carries the gist of its stderr.
    pub async fn wait(self) -> Result<(), MediaError> {
        let (status, complaints) = self.exit().await?;
        if status.success() {
            return Ok(());
        }
        match std::os::unix::process::ExitStatusExt::signal(&status) {
            Some(signal) => Err(MediaError::Killed(signal)),
            None => Err(MediaError::Ffmpeg(complaints)),
        }
    }

    /// Waits for ffmpeg to exit: how it ended and the gist of its stderr.
    pub async fn exit(mut self) -> Result<(std::process::ExitStatus, String), MediaError> {
        drop(self.stdin.take());
        let status = self.child.wait().await?;
        let complaints = self.complaints.await.unwrap_or_default();
        Ok((status, gist(&complaints)))
    }
}

/// ffmpeg is stopped when it puts out nothing for this long (a file that
/// makes the decoder spin, a stuck hardware decoder).
pub const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `output` (a read from ffmpeg) but gives up after [`STALL_TIMEOUT`].
pub(crate) async fn unless_stalled<T>(
    output: impl std::future::Future<Output = Result<T, MediaError>>,
) -> Result<T, MediaError> {
    tokio::time::timeout(STALL_TIMEOUT, output)
        .await
        .map_err(|_| MediaError::Stalled(STALL_TIMEOUT))?
}

/// At the end of ffmpeg's output: waits for it to exit (once) and reports how.
pub(crate) async fn wait_for_exit(ffmpeg: &mut Option<Ffmpeg>) -> Result<(), MediaError> {
    match ffmpeg.take() {
        Some(ffmpeg) => ffmpeg.wait().await,
        None => Ok(()),
    }
}

/// The running ffmpeg, or an error once it has been waited for.
pub(crate) fn running(ffmpeg: &mut Option<Ffmpeg>) -> Result<&mut Ffmpeg, MediaError> {
    ffmpeg
        .as_mut()
        .ok_or_else(|| MediaError::Ffmpeg("ffmpeg is gone".to_owned()))
}

async fn read_stderr(
    stderr: tokio::process::ChildStderr,
    frame_times: mpsc::UnboundedSender<f64>,
    progress: watch::Sender<f64>,
) -> VecDeque<String> {
    let mut lines = BufReader::new(stderr).lines();
    let mut kept = VecDeque::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(pts) = showinfo_time(&line) {
            let _ = frame_times.send(pts);
        } else if let Some(us) = line.strip_prefix("out_time_us=") {
            if let Ok(us) = us.trim().parse::<f64>() {
                progress.send_replace(us / 1e6);
            }
        } else if is_complaint(&line) {
            if kept.len() == KEPT_LINES {
                kept.pop_front();
            }
            kept.push_back(line);
        }
    }
    kept
}

/// The `pts_time` of a `showinfo` line.
fn showinfo_time(line: &str) -> Option<f64> {
    if !line.contains("Parsed_showinfo") {
        return None;
    }
    let rest = &line[line.find("pts_time:")? + "pts_time:".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// Lines that are neither progress reports nor routine information.
fn is_complaint(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty()
        && !line.contains('=') // -progress key=value lines
        && !line.starts_with("Input #")
        && !line.starts_with("Output #")
        && !line.starts_with("Stream ")
        && !line.starts_with("Duration:")
        && !line.starts_with("Metadata:")
        && !line.starts_with("Press [q]")
}

/// The most telling line of what ffmpeg said, without its `[decoder @ 0x…]` prefix.
fn gist(lines: &VecDeque<String>) -> String {
    let cleaned: Vec<String> = lines
        .iter()
        .map(|line| match (line.find('['), line.find("] ")) {
            (Some(0), Some(end)) => line[end + 2..].trim().to_owned(),
            _ => line.trim().to_owned(),
        })
        .filter(|line| !line.is_empty() && line != "Conversion failed!")
        .collect();
    cleaned
        .last()
        .cloned()
        .unwrap_or_else(|| "ffmpeg stopped without saying why".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_showinfo_times() {
        let line = "[Parsed_showinfo_1 @ 0x5581] n:   3 pts:  30720 pts_time:2.5     duration: 512";
        assert_eq!(showinfo_time(line), Some(2.5));
        assert_eq!(showinfo_time("frame=1 fps=0.0"), None);
    }

    #[test]
    fn the_gist_drops_prefixes() {
        let lines: VecDeque<String> = [
            "[mpeg4 @ 0x55d] ac-tex damaged at 21 3",
            "x.avi: Invalid data found when processing input",
            "Conversion failed!",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            gist(&lines),
            "x.avi: Invalid data found when processing input"
        );
    }
}
