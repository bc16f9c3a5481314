//! The progress bar the CLI shows while a job runs.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar from 0 to 1000 (per mille of the job) with the job's stage beside it.
pub fn job_bar() -> ProgressBar {
    let bar = ProgressBar::new(1000);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {percent:>3}% {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// Moves the bar to `fraction` and shows the job's state and stage.
pub fn update(bar: &ProgressBar, fraction: f64, state: &str, stage: Option<&str>) {
    bar.set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
    bar.set_message(match stage {
        Some(stage) => format!("{state}: {stage}"),
        None => state.to_owned(),
    });
}
