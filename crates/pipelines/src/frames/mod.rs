//! `frames`: still images from a video at an interval, every Nth frame, or N
//! evenly spaced, as a ZIP with a manifest. Plans from the container's frame
//! list first, then decodes only what it must: one pass when the frames are
//! close together, seeks when they are far apart, keyframes alone when asked.

mod archive;
pub mod artifacts;
mod params;
mod plan;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures::StreamExt;
use kinoflow_engine::ProgressReporter;
use kinoflow_engine::{
    FieldError, InputFile, InputKind, JobContext, Pipeline, PipelineError, RunSummary,
};
use kinoflow_media::{
    extract_images, hwaccel_works, ExtractRun, ExtractedImage, ImageFormat, ImageOptions,
    MediaError, Probe,
};
use serde_json::{json, Value};

use archive::ZipSink;
use params::{Format, FramesParams};
use plan::PlanError;

use crate::VideoLimits;

/// Extracts frames into `frames.zip` and describes them in `manifest.json`.
pub struct FramesPipeline {
    /// An ffmpeg `-hwaccel` method to try before software decoding.
    pub hwaccel: Option<String>,
    pub limits: VideoLimits,
}

/// How many missing frames the summary names one by one.
const NAMED_MISSING: usize = 10;

const ONE_SELECTOR: &str = "give exactly one of interval_s, every_n_frames and count";

/// Why a job would extract too many frames (`about`: the estimate, when
/// there is one), and what to change.
fn too_many_frames(max: u64, about: Option<u64>) -> String {
    let count = about.map_or_else(|| "more".to_owned(), |n| format!("about {n}"));
    format!(
        "one job may extract at most {max} frames and this would extract {count}: \
         choose a longer interval_s, a larger every_n_frames, a smaller count or a shorter range"
    )
}

#[async_trait]
impl Pipeline for FramesPipeline {
    fn name(&self) -> &'static str {
        "frames"
    }

    fn description(&self) -> &'static str {
        "Extracts frames at an interval, every Nth frame, or N evenly spaced, as JPEG or PNG in frames.zip with manifest.json."
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

    async fn check_input(&self, input: &InputFile, params: &Value) -> Result<(), String> {
        let probe = self.limits.probe_input(input).await?;
        let params: FramesParams =
            serde_json::from_value(params.clone()).map_err(|e| e.to_string())?;
        let Some(selector) = params.selector() else {
            return Err(ONE_SELECTOR.to_owned());
        };
        let estimate = plan::estimated_count(&probe, selector, params.start_s, params.end_s);
        if estimate > self.limits.max_frames {
            return Err(too_many_frames(self.limits.max_frames, Some(estimate)));
        }
        Ok(())
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        let params: FramesParams = ctx.params()?;
        let selector = params
            .selector()
            .ok_or_else(|| PipelineError::permanent(ONE_SELECTOR))?;
        let input = ctx.input()?;
        ctx.progress.report(0.0, "reading the frame list");
        let probe = self.limits.probe(input).await?;
        let frame_list = kinoflow_media::frame_times(input).await?;
        let wanted = plan::Wanted {
            selector,
            mode: params.mode,
            start_s: params.start_s,
            end_s: params.end_s,
        };
        let plan =
            plan::plan(&frame_list, wanted, self.limits.max_frames).map_err(|e| match e {
                PlanError::NoFrames => PipelineError::permanent(format!(
                    "no frames in the requested range (the video is {:.3} s long)",
                    probe.duration_s.unwrap_or(0.0)
                )),
                PlanError::TooMany => {
                    PipelineError::permanent(too_many_frames(self.limits.max_frames, None))
                }
            })?;

        let format = match params.format {
            Format::Jpg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
        };
        let mut warnings = Vec::new();
        let hwaccel = match &self.hwaccel {
            Some(method) if hwaccel_works(input, method).await => Some(method.clone()),
            Some(method) => {
                warnings.push(format!(
                    "hardware decoding ({method}) is not available here; decoded in software"
                ));
                None
            }
            None => None,
        };
        let options = ImageOptions {
            format,
            quality: params.quality,
            max_width: params.max_width,
            max_height: params.max_height,
            keyframes_only: params.mode == params::Mode::Keyframes,
            decoder_threads: None,
            hwaccel,
        };
        let zip_path = ctx.scratch.join(artifacts::FRAMES_ZIP);
        let mut collector = Collector {
            zip: ZipSink::create(&zip_path).map_err(transient)?,
            entries: Vec::new(),
            warnings,
            plan: &plan,
            format,
            progress: &ctx.progress,
        };
        let small_runs = plan
            .runs
            .iter()
            .all(|run| run.wanted.len() <= PARALLEL_RUN_MAX_FRAMES);
        if plan.runs.len() > 1 && small_runs {
            decode_in_parallel(input, &plan.runs, &options, &ctx.scratch, &mut collector).await?;
        } else {
            decode_in_turn(input, &plan.runs, &options, &ctx.scratch, &mut collector).await?;
        }
        let Collector {
            zip,
            entries,
            mut warnings,
            ..
        } = collector;
        if entries.is_empty() {
            return Err(PipelineError::permanent(
                "no frame could be decoded: the video is damaged where the frames were wanted",
            ));
        }
        zip.finish().await.map_err(transient)?;
        warnings.extend(missing_frames(&plan.wanted, &entries, plan.origin));

        ctx.progress.report(0.99, "saving");
        ctx.artifacts
            .put_file(artifacts::FRAMES_ZIP, &zip_path)
            .await?;
        let manifest = manifest(&probe, &params, &plan, &entries, &warnings);
        let manifest = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| PipelineError::permanent(e.to_string()))?;
        ctx.artifacts
            .put_bytes(artifacts::MANIFEST, &manifest)
            .await?;
        ctx.progress.report(1.0, "done");
        Ok(RunSummary { warnings })
    }
}

/// Runs of at most this many frames may be decoded two at a time (each is
/// held in memory until its turn to be written).
const PARALLEL_RUN_MAX_FRAMES: usize = 8;
/// Two decoders keep both cores busy while each seeks and warms up.
const PARALLEL_RUNS: usize = 2;

/// Puts extracted frames into the ZIP, in order, and keeps their manifest entries.
struct Collector<'a> {
    zip: ZipSink,
    entries: Vec<Value>,
    warnings: Vec<String>,
    plan: &'a plan::Plan,
    format: ImageFormat,
    progress: &'a ProgressReporter,
}

impl Collector<'_> {
    /// Adds a frame; `decoded_to` is how far ffmpeg has got, for progress.
    async fn add(&mut self, image: ExtractedImage, decoded_to: f64) -> Result<(), PipelineError> {
        let index = self.entries.len() + 1;
        let timestamp = image.pts - self.plan.origin;
        let name = format!(
            "frame_{index:06}_t{timestamp:011.3}.{}",
            self.format.extension()
        );
        let size = imagesize::blob_size(&image.bytes).ok();
        self.entries.push(json!({
            "index": index,
            "timestamp_s": round_ms(timestamp),
            "file": name,
            "width": size.map(|s| s.width),
            "height": size.map(|s| s.height),
        }));
        self.zip.add(name, image.bytes).await.map_err(transient)?;
        let (low, high) = self.plan.span;
        let fraction = if high > low {
            (decoded_to.max(image.pts) - low) / (high - low)
        } else {
            1.0
        };
        self.progress.report(fraction * 0.98, "extracting");
        Ok(())
    }

    /// A run that failed: fatal before any frame was extracted, a warning
    /// after (the rest of the file is damaged) — unless ffmpeg failed for a
    /// reason of its own (killed, stalled), when the job is tried again
    /// rather than delivered short.
    fn run_failed(&mut self, error: MediaError) -> Result<(), PipelineError> {
        if self.entries.is_empty() || error.is_transient() {
            return Err(error.into());
        }
        self.warnings
            .push(format!("decoding stopped early: {error}"));
        Ok(())
    }
}

/// One run after the other, each frame written as it arrives.
async fn decode_in_turn(
    input: &Path,
    runs: &[ExtractRun],
    options: &ImageOptions,
    scratch: &Path,
    collector: &mut Collector<'_>,
) -> Result<(), PipelineError> {
    for run in runs {
        let mut images = match extract_images(input, run, options, scratch) {
            Ok(images) => images,
            Err(e) => {
                collector.run_failed(e)?;
                continue;
            }
        };
        loop {
            match images.next().await {
                Ok(Some(image)) => {
                    let decoded_to = images.progress_s();
                    collector.add(image, decoded_to).await?;
                }
                Ok(None) => break,
                Err(e) => {
                    collector.run_failed(e)?;
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Small runs (a seek and a few frames each), two at a time, written in order.
async fn decode_in_parallel(
    input: &Path,
    runs: &[ExtractRun],
    options: &ImageOptions,
    scratch: &Path,
    collector: &mut Collector<'_>,
) -> Result<(), PipelineError> {
    // Owned arguments keep the futures free of borrowed lifetimes, which the
    // async-trait boxing of `run` cannot express.
    let mut results = futures::stream::iter(runs.to_vec())
        .map(|run| {
            collect_run(
                input.to_path_buf(),
                run,
                options.clone(),
                scratch.to_path_buf(),
            )
        })
        .buffered(PARALLEL_RUNS);
    while let Some((images, failure)) = results.next().await {
        for image in images {
            let decoded_to = image.pts;
            collector.add(image, decoded_to).await?;
        }
        if let Some(error) = failure {
            collector.run_failed(error)?;
        }
    }
    Ok(())
}

/// All the frames of one run, and the error that ended it early, if any.
async fn collect_run(
    input: PathBuf,
    run: ExtractRun,
    options: ImageOptions,
    scratch: PathBuf,
) -> (Vec<ExtractedImage>, Option<MediaError>) {
    let mut images = match extract_images(&input, &run, &options, &scratch) {
        Ok(images) => images,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut collected = Vec::new();
    loop {
        match images.next().await {
            Ok(Some(image)) => collected.push(image),
            Ok(None) => return (collected, None),
            Err(e) => return (collected, Some(e)),
        }
    }
}

fn transient(error: std::io::Error) -> PipelineError {
    PipelineError::transient(format!("could not write the frames: {error}"))
}

fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// A warning for wanted frames the decoder could not produce.
fn missing_frames(wanted: &[f64], entries: &[Value], origin: f64) -> Option<String> {
    let got: Vec<f64> = entries
        .iter()
        .filter_map(|e| e["timestamp_s"].as_f64())
        .collect();
    let missing: Vec<String> = wanted
        .iter()
        .map(|pts| round_ms(pts - origin))
        .filter(|t| !got.iter().any(|g| (g - t).abs() < 0.0015))
        .map(|t| format!("{t:.3}"))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let named = missing
        .iter()
        .take(NAMED_MISSING)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = missing.len().saturating_sub(NAMED_MISSING);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some(format!(
        "{} of {} frames could not be decoded (the video is damaged there): t = {named}{tail} s",
        missing.len(),
        wanted.len()
    ))
}

fn manifest(
    probe: &Probe,
    params: &FramesParams,
    plan: &plan::Plan,
    entries: &[Value],
    warnings: &[String],
) -> Value {
    json!({
        "source": {
            "duration_s": probe.duration_s,
            "frame_rate": probe.frame_rate,
            "frame_count": probe.frame_count,
            "width": probe.width,
            "height": probe.height,
            "rotation": probe.rotation,
            "video_codec": probe.video_codec,
            "format": probe.format,
        },
        "mode": match params.mode { params::Mode::Exact => "exact", params::Mode::Keyframes => "keyframes" },
        "strategy": plan.strategy(params.mode),
        "frames": entries,
        "warnings": warnings,
    })
}
