//! An ffmpeg command of the caller's own (a render's filter graph) run to
//! its end, its progress reported as it goes; and a sound's loudness
//! measured. Like every ffmpeg here it is killed when dropped, so a
//! cancelled job leaves no child behind.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use crate::error::MediaError;
use crate::process::{Ffmpeg, STALL_TIMEOUT};

/// Runs ffmpeg with `args` until it exits, calling `on_progress` with the
/// seconds of output written so far. A run that writes nothing new for
/// [`STALL_TIMEOUT`] is stopped.
pub async fn run_ffmpeg(
    args: &[String],
    mut on_progress: impl FnMut(f64),
) -> Result<(), MediaError> {
    let ffmpeg = Ffmpeg::spawn(args, false)?;
    let mut progress = ffmpeg.progress.clone();
    let watching = async {
        loop {
            match tokio::time::timeout(STALL_TIMEOUT, progress.changed()).await {
                Ok(Ok(())) => on_progress(*progress.borrow_and_update()),
                // ffmpeg exited: its stderr reader dropped the sender.
                Ok(Err(_)) => return Ok(()),
                Err(_) => return Err(MediaError::Stalled(STALL_TIMEOUT)),
            }
        }
    };
    let exit = ffmpeg.wait();
    tokio::pin!(exit);
    tokio::select! {
        exited = &mut exit => exited,
        watched = watching => match watched {
            // Stalled: dropping `exit` kills ffmpeg.
            Err(stalled) => Err(stalled),
            Ok(()) => exit.await,
        },
    }
}

/// The integrated loudness (EBU R128, LUFS) of `path`'s sound; `None` for
/// silence.
pub async fn integrated_loudness(path: &Path) -> Result<Option<f64>, MediaError> {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128=framelog=verbose", "-f", "null", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| MediaError::ToolMissing {
            tool: "ffmpeg",
            reason: e.to_string(),
        })?;
    let said = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(MediaError::Ffmpeg(
            said.lines().last().unwrap_or("ffmpeg failed").to_owned(),
        ));
    }
    Ok(summary_loudness(&said))
}

/// The `I:` of ebur128's summary, when it measured anything louder than
/// its gate.
fn summary_loudness(said: &str) -> Option<f64> {
    let summary = &said[said.rfind("Summary:")?..];
    let rest = &summary[summary.find("I:")? + 2..];
    let value: f64 = rest.split_whitespace().next()?.parse().ok()?;
    (value > -70.0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary() {
        let said = "[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -18.6 LUFS\n";
        assert_eq!(summary_loudness(said), Some(-18.6));
        assert_eq!(summary_loudness("Summary:\n I: -70.0 LUFS"), None);
    }
}
