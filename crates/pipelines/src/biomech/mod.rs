//! `biomech`: a person's pose in every frame (MediaPipe BlazePose on the
//! CPU), a skeleton fitted to constant segment lengths, every joint's angle
//! in 3D and in the image plane, filtered; a chart of the selected joint, the
//! video with the skeleton drawn on it, and the data in JSON, CSV and
//! OpenSim's formats.

mod analysis;
pub mod artifacts;
mod chart;
mod opensim;
mod overlay;
mod params;
mod report;
mod tracking;

use std::path::PathBuf;

use async_trait::async_trait;
use kinoflow_engine::{
    FieldError, InputFile, InputKind, JobContext, Pipeline, PipelineError, RunSummary,
};
use kinoflow_vision::kinematics::Joint;
use kinoflow_vision::pose::{ModelFiles, PoseTracker};
use kinoflow_vision::Runtime;
use serde_json::Value;

use analysis::{joint_name, Analysis};
use params::BiomechParams;
use tracking::Tracked;

use crate::failure::{permanent, transient};
use crate::VideoLimits;

/// Progress share of the tracking pass; the overlay pass takes most of the rest.
const TRACKING_SHARE: f64 = 0.7;

/// Runs the biomechanics analysis with the pose models in `models_dir`,
/// run by `inference`.
pub struct BiomechPipeline {
    pub models_dir: PathBuf,
    pub inference: Runtime,
    pub limits: VideoLimits,
}

#[async_trait]
impl Pipeline for BiomechPipeline {
    fn name(&self) -> &'static str {
        "biomech"
    }

    fn description(&self) -> &'static str {
        "Tracks one person's pose through a video and measures joint angles (knee, hip, ankle, elbow, shoulder, trunk) in 3D and in the image: keypoints.json, angles.csv, summary.json, chart_<joint>.png, overlay.mp4, markers.trc, angles.mot."
    }

    fn input(&self) -> InputKind {
        InputKind::Video
    }

    fn params_schema(&self) -> Value {
        params::schema()
    }

    fn check_params(&self, params: &Value) -> Vec<FieldError> {
        params::check(params)
    }

    async fn check_input(&self, input: &InputFile, _params: &Value) -> Result<(), String> {
        self.limits.probe_input(input).await.map(drop)
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        let params: BiomechParams = ctx.params()?;
        let joints = params.joints().ok_or_else(|| {
            PipelineError::permanent(
                "unknown joint: use knee, hip, ankle, elbow, shoulder, trunk or all",
            )
        })?;
        let input = ctx.input()?;
        ctx.progress.report(0.0, "loading the pose models");
        let tracker = self.load_tracker(params.model.variant()).await?;
        let probe = self.limits.probe(input).await?;
        let tracked = tracking::track(
            input,
            &probe,
            tracker,
            &ctx.progress,
            TRACKING_SHARE,
            &ctx.cancel,
        )
        .await?;
        let fps = frame_rate(&tracked, probe.frame_rate);
        ctx.progress.report(TRACKING_SHARE, "measuring the angles");
        let analysis = analysis::analyse(&tracked, fps, params.filter_hz);
        let mut warnings: Vec<String> = analysis.filter_note.iter().cloned().collect();
        if tracked.frames.iter().all(|f| f.pose.is_none()) {
            warnings.push("no person was found in any frame".into());
        }

        let joint_names: Vec<&'static str> = joints.iter().map(|j| joint_name(*j)).collect();
        let settings = report::Settings {
            joints: &joint_names,
            side: side_label(params.side),
            model: params.model.variant(),
            inference: self.inference.name(),
            filter_hz: params.filter_hz,
        };
        write_data(&ctx, &tracked, &analysis, fps, &settings).await?;
        write_charts(&ctx, &tracked, &analysis, &joints, params.side).await?;
        if params.overlay {
            let selection = overlay::Selection::of(&analysis, &joints, params.side.sides());
            let path = ctx.scratch.join(artifacts::OVERLAY);
            overlay::render(
                input,
                &probe,
                fps,
                &tracked,
                &selection,
                &path,
                (&ctx.progress, TRACKING_SHARE + 0.05, 0.99),
                &ctx.cancel,
            )
            .await?;
            ctx.artifacts.put_file(artifacts::OVERLAY, &path).await?;
        }
        Ok(RunSummary { warnings })
    }
}

impl BiomechPipeline {
    /// Loads (and optimises) the detector and the chosen landmark model.
    async fn load_tracker(&self, variant: &'static str) -> Result<PoseTracker, PipelineError> {
        let files = ModelFiles::in_dir(&self.models_dir, variant);
        for path in [&files.detector, &files.landmarks] {
            if !path.is_file() {
                return Err(PipelineError::permanent(format!(
                    "the pose model {} is missing: set KINOFLOW_MODELS_DIR to kinoflow's models/ folder",
                    path.display()
                )));
            }
        }
        let inference = self.inference.clone();
        tokio::task::spawn_blocking(move || PoseTracker::load(&files, &inference))
            .await
            .map_err(transient)?
            .map_err(permanent)
    }
}

/// The data files: keypoints, angles, summary and the OpenSim pair.
async fn write_data(
    ctx: &JobContext,
    tracked: &Tracked,
    analysis: &Analysis,
    fps: f64,
    settings: &report::Settings<'_>,
) -> Result<(), PipelineError> {
    let json = |value: Value| serde_json::to_vec_pretty(&value).map_err(transient);
    let sink = &ctx.artifacts;
    sink.put_bytes(
        artifacts::KEYPOINTS,
        &json(report::keypoints(tracked, fps))?,
    )
    .await?;
    sink.put_bytes(
        artifacts::ANGLES_CSV,
        report::angles_csv(tracked, analysis).as_bytes(),
    )
    .await?;
    sink.put_bytes(
        artifacts::SUMMARY,
        &json(report::summary(tracked, analysis, fps, settings))?,
    )
    .await?;
    sink.put_bytes(
        artifacts::MARKERS_TRC,
        opensim::markers_trc(tracked, analysis, fps).as_bytes(),
    )
    .await?;
    sink.put_bytes(
        artifacts::ANGLES_MOT,
        opensim::angles_mot(tracked, analysis).as_bytes(),
    )
    .await
}

/// One chart per selected joint, of its 3D angle on the selected sides.
async fn write_charts(
    ctx: &JobContext,
    tracked: &Tracked,
    analysis: &Analysis,
    joints: &[Joint],
    side: params::Sides,
) -> Result<(), PipelineError> {
    let times: Vec<f64> = tracked.frames.iter().map(|f| f.time_s).collect();
    for &joint in joints {
        let selection = overlay::Selection::of(analysis, &[joint], side.sides());
        let name = artifacts::chart(joint_name(joint));
        let path = ctx.scratch.join(&name);
        let title = format!("{} (3D, filtered)", chart_title(joint));
        chart::draw(&path, &title, &selection.series, &times)
            .map_err(|e| PipelineError::transient(format!("could not draw {name}: {e}")))?;
        ctx.artifacts.put_file(&name, &path).await?;
    }
    Ok(())
}

fn chart_title(joint: Joint) -> &'static str {
    match joint {
        Joint::Knee => "Knee flexion",
        Joint::Hip => "Hip flexion",
        Joint::Ankle => "Ankle dorsiflexion",
        Joint::Elbow => "Elbow flexion",
        Joint::Shoulder => "Shoulder flexion",
        Joint::Trunk => "Trunk inclination",
    }
}

fn side_label(side: params::Sides) -> &'static str {
    match side {
        params::Sides::Left => "left",
        params::Sides::Right => "right",
        params::Sides::Both => "both",
    }
}

/// The frame rate: the container's, else measured from the frame times.
fn frame_rate(tracked: &Tracked, probed: Option<f64>) -> f64 {
    if let Some(fps) = probed.filter(|fps| fps.is_finite() && *fps > 0.0) {
        return fps;
    }
    let frames = &tracked.frames;
    let span = frames.last().map_or(0.0, |f| f.time_s) - frames.first().map_or(0.0, |f| f.time_s);
    if frames.len() > 1 && span > 0.0 {
        (frames.len() - 1) as f64 / span
    } else {
        30.0
    }
}
