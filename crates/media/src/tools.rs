//! Whether the ffmpeg tools this crate runs are there. A node checks at
//! start, so that a missing ffmpeg stops the operator at once instead of
//! failing users' jobs one by one later.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::error::MediaError;

/// How long `-version` may take; it answers at once when the tool works.
const VERSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `ffmpeg -version` and `ffprobe -version`; an error names the first
/// that cannot be run.
pub async fn check_installed() -> Result<(), MediaError> {
    for tool in ["ffmpeg", "ffprobe"] {
        answers_version(tool).await?;
    }
    Ok(())
}

async fn answers_version(tool: &'static str) -> Result<(), MediaError> {
    let missing = |reason: String| MediaError::ToolMissing { tool, reason };
    let run = Command::new(tool)
        .arg("-version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    let status = tokio::time::timeout(VERSION_TIMEOUT, run)
        .await
        .map_err(|_| missing(format!("`{tool} -version` did not answer")))?
        .map_err(|e| missing(e.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(missing(format!("`{tool} -version` exited with {status}")))
    }
}
