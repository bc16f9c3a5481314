//! `emotion`: every face in a video found (BlazeFace, full range), linked
//! from frame to frame into persons, and read by the FER-2013 classifier;
//! each person's emotions over time as data, a chart and an overlay video.

mod analysis;
pub mod artifacts;
mod chart;
mod overlay;
mod params;
mod report;
mod timeline;

use std::path::PathBuf;

use async_trait::async_trait;
use kinoflow_engine::{InputFile, InputKind, JobContext, Pipeline, PipelineError, RunSummary};
use kinoflow_vision::face::{EmotionClassifier, FaceDetector};
use kinoflow_vision::Runtime;
use serde_json::Value;

use analysis::{FaceModels, Observed};
use params::EmotionParams;

use crate::failure::{permanent, transient};
use crate::VideoLimits;

/// The face detector and the emotion classifier, in the models folder.
const DETECTOR_FILE: &str = "face_detection_back_256.onnx";
const CLASSIFIER_FILE: &str = "emotion_fer.onnx";
/// Progress share of the reading pass; the overlay pass takes most of the rest.
const READING_SHARE: f64 = 0.6;

/// Reads the emotions of the faces in a video with the models in
/// `models_dir`, run by `inference`.
pub struct EmotionPipeline {
    pub models_dir: PathBuf,
    pub inference: Runtime,
    pub limits: VideoLimits,
}

#[async_trait]
impl Pipeline for EmotionPipeline {
    fn name(&self) -> &'static str {
        "emotion"
    }

    fn description(&self) -> &'static str {
        "Finds every face in a video, follows each person and reads their emotion (angry, disgust, fear, happy, sad, surprise, neutral) over time: emotions.csv, timeline.json, summary.json, chart_emotions.png, overlay.mp4."
    }

    fn input(&self) -> InputKind {
        InputKind::Video
    }

    fn params_schema(&self) -> Value {
        params::schema()
    }

    async fn check_input(&self, input: &InputFile, params: &Value) -> Result<(), String> {
        let probe = self.limits.probe_input(input).await?;
        // The params passed their schema before the input is checked.
        let limit = serde_json::from_value::<EmotionParams>(params.clone())
            .ok()
            .and_then(|params| params.max_duration_s);
        match (limit, probe.duration_s) {
            (Some(limit), Some(duration)) if duration > limit => Err(format!(
                "the video lasts {duration:.1} s, longer than the {limit} s allowed"
            )),
            _ => Ok(()),
        }
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        let params: EmotionParams = ctx.params()?;
        let input = ctx.input()?;
        ctx.progress.report(0.0, "loading the face models");
        let models = self.load_models().await?;
        let probe = self.limits.probe(input).await?;
        let observed = analysis::observe(
            input,
            &probe,
            models,
            &params,
            (&ctx.progress, READING_SHARE),
            &ctx.cancel,
        )
        .await?;
        ctx.progress.report(READING_SHARE, "writing the timelines");
        let people = timeline::people(&observed, params.smooth_s);
        let mut warnings = Vec::new();
        if people.is_empty() {
            warnings.push("no face was found in any frame".to_owned());
        }
        if people.len() > chart::MAX_PANELS {
            warnings.push(format!(
                "{} persons were seen: the chart shows the first {}, the data files all",
                people.len(),
                chart::MAX_PANELS
            ));
        }
        self.write_data(&ctx, &observed, probe.duration_s, &people, &params)
            .await?;
        let fps = frame_rate(&observed, probe.frame_rate);
        let chart_path = ctx.scratch.join(artifacts::CHART);
        chart::draw(&chart_path, &people, observed.frames_decoded as f64 / fps)
            .map_err(|e| transient(format!("could not draw the chart: {e}")))?;
        ctx.artifacts
            .put_file(artifacts::CHART, &chart_path)
            .await?;
        if params.overlay {
            let path = ctx.scratch.join(artifacts::OVERLAY);
            overlay::render(
                input,
                &probe,
                fps,
                &observed,
                &path,
                (&ctx.progress, READING_SHARE + 0.05, 0.99),
                &ctx.cancel,
            )
            .await?;
            ctx.artifacts.put_file(artifacts::OVERLAY, &path).await?;
        }
        Ok(RunSummary { warnings })
    }
}

impl EmotionPipeline {
    /// Loads (and optimises) the face detector and the classifier.
    async fn load_models(&self) -> Result<FaceModels, PipelineError> {
        let detector = self.models_dir.join(DETECTOR_FILE);
        let classifier = self.models_dir.join(CLASSIFIER_FILE);
        for path in [&detector, &classifier] {
            if !path.is_file() {
                return Err(permanent(format!(
                    "the face model {} is missing: set KINOFLOW_MODELS_DIR to kinoflow's models/ folder",
                    path.display()
                )));
            }
        }
        let inference = self.inference.clone();
        tokio::task::spawn_blocking(move || {
            Ok::<_, kinoflow_vision::VisionError>(FaceModels {
                detector: FaceDetector::load(&detector, &inference)?,
                classifier: EmotionClassifier::load(&classifier, &inference)?,
            })
        })
        .await
        .map_err(transient)?
        .map_err(permanent)
    }

    async fn write_data(
        &self,
        ctx: &JobContext,
        observed: &Observed,
        duration_s: Option<f64>,
        people: &[timeline::Person],
        params: &EmotionParams,
    ) -> Result<(), PipelineError> {
        let json = |value: Value| serde_json::to_vec_pretty(&value).map_err(transient);
        let settings = report::Settings {
            sample_fps: params.sample_fps,
            min_face_px: params.min_face_px,
            min_score: params.min_score,
            smooth_s: params.smooth_s,
            inference: self.inference.name(),
            duration_s,
        };
        let sink = &ctx.artifacts;
        sink.put_bytes(
            artifacts::EMOTIONS_CSV,
            report::emotions_csv(observed).as_bytes(),
        )
        .await?;
        sink.put_bytes(
            artifacts::TIMELINE,
            &json(report::timeline(people, observed.period_s, params.smooth_s))?,
        )
        .await?;
        sink.put_bytes(
            artifacts::SUMMARY,
            &json(report::summary(observed, people, &settings))?,
        )
        .await
    }
}

/// The frame rate: the container's, else the decoded frames over their
/// span, else 30.
fn frame_rate(observed: &Observed, probed: Option<f64>) -> f64 {
    if let Some(fps) = probed.filter(|fps| fps.is_finite() && *fps > 0.0) {
        return fps;
    }
    let span = observed.last_time_s;
    if observed.frames_decoded > 1 && span > 0.0 {
        (observed.frames_decoded - 1) as f64 / span
    } else {
        30.0
    }
}
