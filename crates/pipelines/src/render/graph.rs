//! The ffmpeg commands that render a timeline: the sound mixed first (so
//! that its loudness can be measured), then the video: each scene's picture
//! made to the frame (stills moved by zoompan on an oversampled copy so
//! that the motion is smooth), the scenes joined by crossfades or cuts, the
//! captions burned in by libass, the narration laid at each scene's start,
//! the music looped, ducked under speech and faded out; the mix raised to
//! −14 LUFS under a peak limiter; exactly the timeline's frames encoded.

use std::fmt::Write as _;
use std::path::Path;

use super::params::{Motion, RenderSpec};
use super::timeline::{Placed, Timeline, Visual};

/// Stills are scaled up this much before zoompan, whose crop positions
/// are whole pixels: a 0.15 zoom over a few seconds then moves by
/// fractions of a final pixel rather than jumping (measured: 0.85 px of
/// jitter at 1×, 0.4 at 2×, 0.17 at 4×, the cost growing with it).
const OVERSAMPLING: u32 = 3;
/// How far a still zooms (1.0 → this, or back).
const ZOOM: f64 = 1.15;
/// Music is lowered under speech by a compressor keyed on the narration.
const DUCKING: &str = "sidechaincompress=threshold=0.02:ratio=10:attack=15:release=350";
/// Peaks are held under −1.5 dBFS, leaving room under the −1 dBTP
/// ceiling for the AAC encoder's overshoot.
const PEAK_LIMIT: f64 = 0.84;
/// Every sound is mixed at this rate and layout.
const AUDIO_FORMAT: &str = "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo";

/// What the command renders, and where it writes.
pub struct RenderJob<'a> {
    pub timeline: &'a Timeline,
    pub spec: &'a RenderSpec,
    pub music: Option<&'a Path>,
    /// The captions (ASS) and the folder of their fonts.
    pub captions: Option<(&'a Path, &'a Path)>,
    pub output: &'a Path,
}

/// The loudness the mix is brought to, in LUFS.
pub const TARGET_LOUDNESS: f64 = -14.0;

/// ffmpeg's arguments that mix the sound alone into `output` (a WAV):
/// each scene's narration from its start, the music under it. Whether
/// there is any sound at all.
pub fn mix_args(job: &RenderJob<'_>, output: &Path) -> (Vec<String>, bool) {
    let mut command = Command::default();
    let timeline = job.timeline;
    let spoken = narration_track(&mut command, timeline);
    let total = timeline.duration_s();
    match job.music {
        Some(music) => {
            let input = command.input(["-stream_loop", "-1", "-i"], music);
            let fade_at = (total - 1.0).max(0.0);
            command.graph(format!(
                "[{input}:a]{AUDIO_FORMAT},atrim=0:{total},asetpts=N/SR/TB,volume={gain},\
                 afade=t=out:st={fade_at}:d=1[music]",
                gain = job.spec.music_gain
            ));
            if job.spec.ducking {
                command.graph("[narration]asplit=2[spoken][key]".to_owned());
                command.graph(format!("[music][key]{DUCKING}[ducked]"));
                command.graph(
                    "[spoken][ducked]amix=inputs=2:duration=first:normalize=0[mixed]".to_owned(),
                );
            } else {
                command.graph(
                    "[narration][music]amix=inputs=2:duration=first:normalize=0[mixed]".to_owned(),
                );
            }
        }
        None => command.graph("[narration]anull[mixed]".to_owned()),
    }
    command.graph(format!("[mixed]atrim=0:{total}[audio]"));
    let mut args = command.into_args();
    args.extend(
        ["-map", "[audio]", "-c:a", "pcm_f32le", "-ar", "48000", "-y"]
            .iter()
            .map(|a| (*a).to_owned()),
    );
    args.push(output.display().to_string());
    (args, spoken || job.music.is_some())
}

/// ffmpeg's arguments that raise `mix` by `gain_db` into `output`, its
/// peaks held under [`PEAK_LIMIT`].
pub fn level_args(mix: &Path, gain_db: f64, output: &Path) -> Vec<String> {
    vec![
        "-i".to_owned(),
        mix.display().to_string(),
        "-af".to_owned(),
        format!("volume={gain_db:.2}dB,alimiter=limit={PEAK_LIMIT}:level=false,{AUDIO_FORMAT}"),
        "-c:a".to_owned(),
        "pcm_f32le".to_owned(),
        "-y".to_owned(),
        output.display().to_string(),
    ]
}

/// ffmpeg's arguments that render the video with `sound` (a WAV of the
/// whole timeline).
pub fn video_args(job: &RenderJob<'_>, sound: &Path) -> Vec<String> {
    let mut command = Command::default();
    let timeline = job.timeline;
    let (width, height, fps) = (job.spec.width, job.spec.height, timeline.fps);
    for (position, placed) in timeline.scenes.iter().enumerate() {
        let picture = scene_picture(&mut command, placed, width, height, fps);
        command.graph(format!("{picture}[v{position}]"));
    }
    join_scenes(&mut command, timeline);
    match job.captions {
        Some((ass, fonts)) => command.graph(format!(
            "[joined]ass=filename='{}':fontsdir='{}'[video]",
            ass.display(),
            fonts.display()
        )),
        None => command.graph("[joined]null[video]".to_owned()),
    }
    let sound = command.input(["-i"], sound);
    command.graph(format!(
        "[{sound}:a]atrim=0:{}[audio]",
        timeline.duration_s()
    ));
    command.finish(job, timeline)
}

/// The arguments as they are gathered: inputs in order, graph statements.
#[derive(Default)]
struct Command {
    inputs: Vec<String>,
    count: usize,
    graph: Vec<String>,
}

impl Command {
    /// Adds an input with the options before its path; its index.
    fn input<const N: usize>(&mut self, options: [&str; N], path: &Path) -> usize {
        self.inputs.extend(options.iter().map(|o| (*o).to_owned()));
        self.inputs.push(path.display().to_string());
        self.count += 1;
        self.count - 1
    }

    fn graph(&mut self, statement: String) {
        self.graph.push(statement);
    }

    /// The inputs and the filter graph.
    fn into_args(self) -> Vec<String> {
        let mut args = self.inputs;
        args.push("-filter_complex".to_owned());
        args.push(self.graph.join(";"));
        args
    }

    /// The whole video command: the graph, the streams mapped, the encoders.
    fn finish(self, job: &RenderJob<'_>, timeline: &Timeline) -> Vec<String> {
        let mut args = self.into_args();
        let encoding = &job.spec.encoding;
        let rate_control = match encoding.video_kbps {
            Some(kbps) => vec![
                "-b:v".to_owned(),
                format!("{kbps}k"),
                "-maxrate".to_owned(),
                format!("{kbps}k"),
                "-bufsize".to_owned(),
                format!("{}k", kbps * 2),
            ],
            None => vec!["-crf".to_owned(), encoding.crf.to_string()],
        };
        let fps = timeline.fps.to_string();
        let frames = timeline.total_frames.to_string();
        let fixed = [
            "-map", "[video]", "-map", "[audio]", "-c:v", "libx264", "-preset",
        ];
        args.extend(fixed.iter().map(|a| (*a).to_owned()));
        args.push(encoding.preset.clone());
        args.extend(rate_control);
        let tail = [
            "-profile:v",
            "high",
            "-pix_fmt",
            "yuv420p",
            "-r",
            &fps,
            "-frames:v",
            &frames,
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            "-ar",
            "48000",
            "-movflags",
            "+faststart",
            "-y",
        ];
        args.extend(tail.iter().map(|a| (*a).to_owned()));
        args.push(job.output.display().to_string());
        args
    }
}

/// The filters that make one scene's picture: `frames` frames of the frame's
/// size at `fps`, numbered from 0.
fn scene_picture(
    command: &mut Command,
    placed: &Placed,
    width: u32,
    height: u32,
    fps: u32,
) -> String {
    let frames = placed.frames;
    let cover = format!(
        "scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},setsar=1"
    );
    let numbered = format!("settb=1/{fps},setpts=N,format=yuv420p");
    match &placed.scene.visual {
        Visual::Image(path) => {
            let input = command.input(["-i"], path);
            match motion_of(placed) {
                None => format!(
                    "[{input}:v]{cover},loop=loop={}:size=1:start=0,{numbered}",
                    frames - 1
                ),
                Some((zoom, x, y)) => format!(
                    "[{input}:v]{cover},scale={}:{},zoompan=z='{zoom}':x='{x}':y='{y}':d={frames}:\
                     s={width}x{height}:fps={fps},{numbered}",
                    width * OVERSAMPLING,
                    height * OVERSAMPLING
                ),
            }
        }
        Visual::Video(path) => {
            let input = command.input(["-i"], path);
            // Held on its last frame when short, cut when long.
            format!(
                "[{input}:v]setpts=PTS-STARTPTS,fps={fps},{cover},\
                 tpad=stop_mode=clone:stop={frames},trim=end_frame={frames},{numbered}"
            )
        }
        Visual::Black => {
            format!("color=c=black:s={width}x{height}:r={fps},trim=end_frame={frames},{numbered}")
        }
    }
}

/// zoompan's zoom and crop position for a still's motion; `None` for a
/// still that stays still.
fn motion_of(placed: &Placed) -> Option<(String, String, String)> {
    let last = placed.frames.saturating_sub(1).max(1);
    let progress = format!("on/{last}");
    let centre_x = "iw/2-iw/zoom/2".to_owned();
    let centre_y = "ih/2-ih/zoom/2".to_owned();
    let growth = ZOOM - 1.0;
    match placed.scene.motion {
        Motion::None => None,
        Motion::ZoomIn => Some((format!("1+{growth}*{progress}"), centre_x, centre_y)),
        Motion::ZoomOut => Some((format!("{ZOOM}-{growth}*{progress}"), centre_x, centre_y)),
        Motion::PanLeft => Some((
            ZOOM.to_string(),
            format!("(iw-iw/zoom)*(1-{progress})"),
            centre_y,
        )),
        Motion::PanRight => Some((
            ZOOM.to_string(),
            format!("(iw-iw/zoom)*{progress}"),
            centre_y,
        )),
    }
}

/// `[v0]…[vN]` joined into `[joined]`: crossfades starting where each
/// scene starts on the timeline, or cuts.
fn join_scenes(command: &mut Command, timeline: &Timeline) {
    let count = timeline.scenes.len();
    if count == 1 {
        command.graph("[v0]null[joined]".to_owned());
        return;
    }
    if timeline.transition_frames == 0 {
        let mut inputs = String::new();
        for position in 0..count {
            let _ = write!(inputs, "[v{position}]");
        }
        command.graph(format!("{inputs}concat=n={count}:v=1:a=0[joined]"));
        return;
    }
    let duration = timeline.seconds(timeline.transition_frames);
    let mut previous = "v0".to_owned();
    for (position, placed) in timeline.scenes.iter().enumerate().skip(1) {
        let label = if position + 1 == count {
            "joined".to_owned()
        } else {
            format!("x{position}")
        };
        command.graph(format!(
            "[{previous}][v{position}]xfade=transition=fade:duration={duration}:offset={}[{label}]",
            timeline.seconds(placed.start_frame)
        ));
        previous = label;
    }
}

/// `[narration]`: each scene's narration from its start on the timeline,
/// silence where there is none, exactly as long as the video. Whether any
/// scene has narration.
fn narration_track(command: &mut Command, timeline: &Timeline) -> bool {
    let mut labels = String::new();
    let mut any = false;
    let last = timeline.scenes.len().saturating_sub(1);
    for (position, placed) in timeline.scenes.iter().enumerate() {
        // Until the next scene starts (the last runs to the end).
        let frames = if position == last {
            placed.frames
        } else {
            placed.frames - timeline.transition_frames
        };
        let length = timeline.seconds(frames);
        let source = match &placed.scene.narration {
            Some((path, _)) => {
                any = true;
                let input = command.input(["-i"], path);
                format!("[{input}:a]{AUDIO_FORMAT},apad")
            }
            None => format!("anullsrc=r=48000:cl=stereo,{AUDIO_FORMAT}"),
        };
        command.graph(format!(
            "{source},atrim=0:{length},asetpts=N/SR/TB[n{position}]"
        ));
        let _ = write!(labels, "[n{position}]");
    }
    command.graph(format!(
        "{labels}concat=n={}:v=0:a=1[narration]",
        timeline.scenes.len()
    ));
    any
}
