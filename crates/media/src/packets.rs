//! The presentation times of every video frame and which are keyframes, read
//! by demuxing only (no decoding): what extraction plans are made from.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use crate::error::MediaError;

/// One video frame as the container lists it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameTime {
    /// Presentation time, seconds.
    pub pts: f64,
    pub keyframe: bool,
}

/// Every frame of the first video stream, in presentation order.
pub async fn frame_times(path: &Path) -> Result<Vec<FrameTime>, MediaError> {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "packet=pts_time,dts_time,flags"])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| MediaError::ToolMissing {
            tool: "ffprobe",
            reason: e.to_string(),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr.lines().last().unwrap_or("ffprobe failed").to_owned();
        return Err(MediaError::Unreadable(reason));
    }
    let mut frames = parse_packets(&String::from_utf8_lossy(&output.stdout));
    frames.sort_by(|a, b| a.pts.total_cmp(&b.pts));
    frames.dedup_by(|a, b| a.pts == b.pts);
    Ok(frames)
}

/// Lines of `pts_time,dts_time,flags`; a packet without a pts uses its dts.
fn parse_packets(csv: &str) -> Vec<FrameTime> {
    csv.lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            let pts = fields.next()?.trim();
            let dts = fields.next()?.trim();
            let flags = fields.next().unwrap_or("").trim();
            let time: f64 = pts.parse().or_else(|_| dts.parse()).ok()?;
            time.is_finite().then_some(FrameTime {
                pts: time,
                keyframe: flags.starts_with('K'),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times_and_key_flags() {
        let frames = parse_packets("0.000000,0.000000,K_\nN/A,0.100000,__\nN/A,N/A,__\n");
        assert_eq!(
            frames,
            [
                FrameTime {
                    pts: 0.0,
                    keyframe: true
                },
                FrameTime {
                    pts: 0.1,
                    keyframe: false
                }
            ]
        );
    }
}
