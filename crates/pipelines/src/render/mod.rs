//! `render`: a vertical short from scenes — stills moving (Ken Burns) or
//! clips, crossfades, narration recorded or spoken by an offline voice,
//! word-by-word karaoke captions, music ducked under speech, the mix at
//! −14 LUFS — rendered by one ffmpeg filter graph. The scenes' media are
//! uploads the spec names; they are checked when the job is submitted.

pub mod artifacts;
mod captions;
mod fonts;
mod graph;
mod params;
mod timeline;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use kinoflow_engine::{
    FieldError, InputFile, InputKind, JobContext, Pipeline, PipelineError, RunSummary, UploadRef,
};
use kinoflow_media::{inspect, integrated_loudness, run_ffmpeg, MediaKind};
use serde_json::{json, Value};

use crate::failure::{permanent, transient};
use crate::voice::{self, Voice};
use captions::Caption;
use params::{Motion, RenderSpec, Scene, TransitionKind};
use timeline::{PreparedScene, Timeline, Visual};

/// Progress when the scenes are ready, and when the video is written.
const PREPARED: f64 = 0.1;
const RENDERED: f64 = 0.97;
/// How close to the target loudness (LU) the mix is brought, in at most
/// this many passes (each a few hundredths of a second of audio work).
const LOUDNESS_TOLERANCE: f64 = 0.3;
const LEVELLING_PASSES: usize = 4;

/// Renders a short video from a spec of scenes.
pub struct RenderPipeline;

#[async_trait]
impl Pipeline for RenderPipeline {
    fn name(&self) -> &'static str {
        "render"
    }

    fn description(&self) -> &'static str {
        "Renders a vertical short from scenes (uploaded images or clips, narration spoken or uploaded, captions, music): render.mp4, thumbnail.jpg, timeline.json, captions.srt, captions.vtt, captions.ass."
    }

    fn input(&self) -> InputKind {
        InputKind::None
    }

    fn params_schema(&self) -> Value {
        params::schema()
    }

    fn check_params(&self, params: &Value) -> Vec<FieldError> {
        params::check(params)
    }

    fn referenced_uploads(&self, params: &Value) -> Vec<UploadRef> {
        params::uploads_in(params)
    }

    async fn check_reference(&self, reference: &UploadRef, file: &InputFile) -> Result<(), String> {
        let wanted = params::kind_at(&reference.pointer);
        let info = inspect(file.path()).await.map_err(|e| {
            format!(
                "upload {} is not {}: {e}",
                reference.upload_id,
                wanted.as_str()
            )
        })?;
        let fits = match wanted {
            MediaKind::Audio => info.has_audio,
            kind => info.kind == kind,
        };
        if fits {
            Ok(())
        } else {
            Err(format!(
                "upload {} is {}, not {}",
                reference.upload_id,
                info.kind.as_str(),
                wanted.as_str()
            ))
        }
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        let spec: RenderSpec = ctx.params()?;
        ctx.progress.report(0.0, "preparing the scenes");
        let (scenes, warnings) = prepare_scenes(&ctx, &spec).await?;
        let transition_s = match spec.transition.kind {
            TransitionKind::Crossfade => spec.transition.duration_s,
            TransitionKind::Cut => 0.0,
        };
        let timeline = Timeline::plan(scenes, spec.fps, transition_s);
        let captions = if spec.captions.enabled {
            captions::group(&timeline.words(), spec.captions.words_per_caption)
        } else {
            Vec::new()
        };
        let ass = write_captions(&ctx, &spec, &captions).await?;
        let fonts = ctx.scratch.join("fonts");
        fonts::write_all(&fonts).await.map_err(transient)?;
        let music = spec.music.as_deref().map(|id| ctx.upload(id)).transpose()?;
        let video = ctx.scratch.join(artifacts::VIDEO);
        let job = graph::RenderJob {
            timeline: &timeline,
            spec: &spec,
            music,
            captions: ass.as_deref().map(|ass| (ass, fonts.as_path())),
            output: &video,
        };
        ctx.progress.report(PREPARED, "mixing the sound");
        let sound = mix_sound(&ctx.scratch, &job).await?;
        let args = graph::video_args(&job, &sound);
        ctx.progress.report(PREPARED, "rendering");
        let total = timeline.duration_s();
        let progress = ctx.progress.clone();
        run_ffmpeg(&args, |seconds| {
            let done = (seconds / total).clamp(0.0, 1.0);
            progress.report(PREPARED + (RENDERED - PREPARED) * done, "rendering");
        })
        .await?;
        ctx.artifacts.put_file(artifacts::VIDEO, &video).await?;
        write_thumbnail(&ctx, &timeline, &video).await?;
        write_timeline(&ctx, &spec, &timeline, &captions).await?;
        ctx.progress.report(1.0, "done");
        Ok(RunSummary { warnings })
    }
}

/// Mixes the sound; when it is to be normalised and is not silent, raises
/// it to the target loudness under a peak limiter. The limiter takes a
/// little loudness off peaky speech, so the gain is corrected from what is
/// measured until it is within [`LOUDNESS_TOLERANCE`]. The WAV made.
async fn mix_sound(scratch: &Path, job: &graph::RenderJob<'_>) -> Result<PathBuf, PipelineError> {
    let mix = scratch.join("mix.wav");
    let (args, has_sound) = graph::mix_args(job, &mix);
    run_ffmpeg(&args, |_| {}).await?;
    if !(has_sound && job.spec.normalise_loudness) {
        return Ok(mix);
    }
    let Some(mut loudness) = integrated_loudness(&mix).await? else {
        return Ok(mix);
    };
    let levelled = scratch.join("levelled.wav");
    let mut gain = 0.0;
    for _ in 0..LEVELLING_PASSES {
        gain += graph::TARGET_LOUDNESS - loudness;
        run_ffmpeg(&graph::level_args(&mix, gain, &levelled), |_| {}).await?;
        loudness = integrated_loudness(&levelled)
            .await?
            .unwrap_or(graph::TARGET_LOUDNESS);
        if (loudness - graph::TARGET_LOUDNESS).abs() <= LOUDNESS_TOLERANCE {
            break;
        }
    }
    Ok(levelled)
}

/// Each scene's media and narration ready; a scene that cannot be read
/// fails the job, or is left out with a warning when the spec says so.
async fn prepare_scenes(
    ctx: &JobContext,
    spec: &RenderSpec,
) -> Result<(Vec<PreparedScene>, Vec<String>), PipelineError> {
    let needs_voice = spec
        .scenes
        .iter()
        .any(|scene| scene.audio.is_none() && has_text(scene));
    let voice = if needs_voice {
        Some(voice::voice_for(&spec.voice).map_err(permanent)?)
    } else {
        None
    };
    let mut prepared = Vec::with_capacity(spec.scenes.len());
    let mut warnings = Vec::new();
    for (index, scene) in spec.scenes.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            return Err(PipelineError::Cancelled);
        }
        let motion = scene.motion.unwrap_or(if prepared.len() % 2 == 0 {
            Motion::ZoomIn
        } else {
            Motion::ZoomOut
        });
        match prepare_scene(ctx, index, scene, motion, voice.as_ref()).await {
            Ok(ready) => prepared.push(ready),
            Err(reason) if spec.skip_bad_scenes => {
                warnings.push(format!("scene {index} was left out: {reason}"));
            }
            Err(reason) => return Err(permanent(format!("scene {index}: {reason}"))),
        }
        ctx.progress.report(
            PREPARED * (index + 1) as f64 / spec.scenes.len() as f64,
            "preparing the scenes",
        );
    }
    if prepared.is_empty() {
        return Err(permanent("no scene could be rendered"));
    }
    Ok((prepared, warnings))
}

fn has_text(scene: &Scene) -> bool {
    scene
        .narration
        .as_deref()
        .is_some_and(|text| !text.trim().is_empty())
}

/// One scene's picture and narration; why not, in words for the user.
async fn prepare_scene(
    ctx: &JobContext,
    index: usize,
    scene: &Scene,
    motion: Motion,
    voice: Option<&Arc<dyn Voice>>,
) -> Result<PreparedScene, String> {
    let visual = if let Some(id) = &scene.image {
        let path = uploaded(ctx, id)?;
        readable(&path, "image").await?;
        Visual::Image(path)
    } else if let Some(id) = &scene.video {
        let path = uploaded(ctx, id)?;
        readable(&path, "video").await?;
        Visual::Video(path)
    } else {
        Visual::Black
    };
    let (narration, spoken_words) = if let Some(id) = &scene.audio {
        let path = uploaded(ctx, id)?;
        let length = readable(&path, "audio").await?.unwrap_or(0.0);
        (Some((path, length)), Vec::new())
    } else if let (true, Some(voice)) = (has_text(scene), voice) {
        let wav = ctx.scratch.join(format!("narration-{index}.wav"));
        let text = scene.narration.clone().unwrap_or_default();
        let words = voice::speak(voice.clone(), text, wav.clone()).await?;
        let length = readable(&wav, "narration").await?.unwrap_or(0.0);
        (Some((wav, length)), words)
    } else {
        (None, Vec::new())
    };
    Ok(PreparedScene {
        index,
        visual,
        motion,
        narration,
        words: scene.word_timings.clone().unwrap_or(spoken_words),
        duration_s: scene.duration_s,
    })
}

fn uploaded(ctx: &JobContext, id: &str) -> Result<PathBuf, String> {
    ctx.upload(id)
        .map(Path::to_path_buf)
        .map_err(|e| e.to_string())
}

/// Checks that a scene's medium can still be read; its length, if it has one.
async fn readable(path: &Path, what: &str) -> Result<Option<f64>, String> {
    inspect(path)
        .await
        .map(|info| info.duration_s)
        .map_err(|e| format!("its {what} cannot be read: {e}"))
}

/// Writes the captions' files; the ASS file's path, when there are captions.
async fn write_captions(
    ctx: &JobContext,
    spec: &RenderSpec,
    captions: &[Caption],
) -> Result<Option<PathBuf>, PipelineError> {
    if captions.is_empty() {
        return Ok(None);
    }
    let ass = captions::ass(captions, &spec.captions, spec.width, spec.height);
    ctx.artifacts
        .put_bytes(artifacts::CAPTIONS_SRT, captions::srt(captions).as_bytes())
        .await?;
    ctx.artifacts
        .put_bytes(artifacts::CAPTIONS_VTT, captions::vtt(captions).as_bytes())
        .await?;
    ctx.artifacts
        .put_bytes(artifacts::CAPTIONS_ASS, ass.as_bytes())
        .await?;
    let path = ctx.scratch.join(artifacts::CAPTIONS_ASS);
    tokio::fs::write(&path, ass).await.map_err(transient)?;
    Ok(Some(path))
}

/// A frame a second into the first scene (or its middle, when shorter).
async fn write_thumbnail(
    ctx: &JobContext,
    timeline: &Timeline,
    video: &Path,
) -> Result<(), PipelineError> {
    let first = timeline.seconds(timeline.scenes[0].frames);
    let at = (first / 2.0).min(1.0);
    let thumbnail = ctx.scratch.join(artifacts::THUMBNAIL);
    let args: Vec<String> = [
        "-ss".to_owned(),
        format!("{at:.3}"),
        "-i".to_owned(),
        video.display().to_string(),
        "-frames:v".to_owned(),
        "1".to_owned(),
        "-q:v".to_owned(),
        "3".to_owned(),
        "-y".to_owned(),
        thumbnail.display().to_string(),
    ]
    .into();
    run_ffmpeg(&args, |_| {}).await?;
    ctx.artifacts
        .put_file(artifacts::THUMBNAIL, &thumbnail)
        .await
}

async fn write_timeline(
    ctx: &JobContext,
    spec: &RenderSpec,
    timeline: &Timeline,
    captions: &[Caption],
) -> Result<(), PipelineError> {
    let document = json!({
        "width": spec.width,
        "height": spec.height,
        "fps": timeline.fps,
        "frames": timeline.total_frames,
        "duration_s": timeline.duration_s(),
        "transition_s": timeline.seconds(timeline.transition_frames),
        "scenes": timeline.scene_entries(),
        "captions": captions,
    });
    let bytes = serde_json::to_vec_pretty(&document).map_err(permanent)?;
    ctx.artifacts.put_bytes(artifacts::TIMELINE, &bytes).await
}
