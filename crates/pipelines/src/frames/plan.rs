//! Which frames to extract and how to decode them, worked out from the
//! container's frame list before anything is decoded.

use kinoflow_media::{ExtractRun, FrameTime, Probe};

use super::params::{Mode, Selector};

/// A frame time matches a wanted time within this much.
const TOLERANCE_S: f64 = 1e-4;

/// Seeking costs an ffmpeg start; it pays only when it skips more frames than this.
const FRAMES_WORTH_A_SEEK: usize = 48;

/// The frames to extract (presentation times) and the decoding runs that get them.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub wanted: Vec<f64>,
    pub runs: Vec<ExtractRun>,
    /// The time the video starts at: timestamps in names are counted from it.
    pub origin: f64,
    /// The span the frames are picked from, for progress.
    pub span: (f64, f64),
}

impl Plan {
    /// How the runs decode, for the manifest.
    pub fn strategy(&self, mode: Mode) -> &'static str {
        match (mode, self.runs.len()) {
            (Mode::Keyframes, _) => "keyframes",
            (Mode::Exact, 1) if self.runs[0].seek_to.is_none() => "single-pass",
            (Mode::Exact, 1) => "seek-then-single-pass",
            (Mode::Exact, _) => "seek-per-frame-group",
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wanted {
    pub selector: Selector,
    pub mode: Mode,
    pub start_s: Option<f64>,
    pub end_s: Option<f64>,
}

/// Why there is no plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanError {
    /// No frame lies in the range.
    NoFrames,
    /// More frames than one job may extract.
    TooMany,
}

/// Plans the extraction of at most `max_frames` frames.
pub fn plan(frames: &[FrameTime], ask: Wanted, max_frames: u64) -> Result<Plan, PlanError> {
    let origin = frames.first().ok_or(PlanError::NoFrames)?.pts;
    let low = origin + ask.start_s.unwrap_or(0.0);
    let high = ask.end_s.map_or(f64::INFINITY, |end| origin + end);
    let in_range: Vec<FrameTime> = frames
        .iter()
        .copied()
        .filter(|f| f.pts >= low - TOLERANCE_S && f.pts <= high + TOLERANCE_S)
        .collect();
    let last = in_range.last().ok_or(PlanError::NoFrames)?.pts;
    let pool: Vec<FrameTime> = match ask.mode {
        Mode::Exact => in_range.clone(),
        Mode::Keyframes => in_range.iter().copied().filter(|f| f.keyframe).collect(),
    };
    if pool.is_empty() {
        return Err(PlanError::NoFrames);
    }
    let mut picker = Picker {
        pool: &pool,
        mode: ask.mode,
        picked: Vec::new(),
        max: usize::try_from(max_frames).unwrap_or(usize::MAX),
    };
    match ask.selector {
        Selector::Interval(step) => picker.every(step, low, last)?,
        Selector::EveryNFrames(n) => {
            let stride = usize::try_from(n).unwrap_or(usize::MAX).max(1);
            for frame in in_range.iter().step_by(stride) {
                picker.pick(frame.pts)?;
            }
        }
        Selector::Count(n) => {
            for k in 0..n {
                picker.pick(evenly_spaced(low, last, k, n))?;
            }
        }
    }
    let wanted: Vec<f64> = picker.picked.iter().map(|&i| pool[i].pts).collect();
    let runs = match ask.mode {
        Mode::Exact => runs(frames, &wanted),
        Mode::Keyframes => vec![ExtractRun {
            seek_to: None,
            wanted: wanted.clone(),
        }],
    };
    Ok(Plan {
        wanted,
        runs,
        origin,
        span: (low, last),
    })
}

/// About how many frames a job would extract, from the probe alone (the
/// frame list is not read at submission): the header's word, bounded by the
/// frames it says there are. [`plan`] checks again against the frames that exist.
pub fn estimated_count(
    probe: &Probe,
    selector: Selector,
    start_s: Option<f64>,
    end_s: Option<f64>,
) -> u64 {
    let duration = probe.duration_s.unwrap_or(0.0).max(0.0);
    let span = (end_s.unwrap_or(duration).min(duration) - start_s.unwrap_or(0.0)).max(0.0);
    let share = if duration > 0.0 { span / duration } else { 1.0 };
    let frames_in_span = probe
        .frame_count
        .map(|count| (count as f64 * share).ceil().max(1.0));
    let asked = match selector {
        Selector::Interval(step) => (span / step).floor() + 1.0,
        Selector::EveryNFrames(n) => frames_in_span.map_or(1.0, |f| (f / n as f64).ceil()),
        Selector::Count(n) => n as f64,
    };
    // `as` saturates: an absurd estimate becomes u64::MAX, not a wrap.
    frames_in_span.map_or(asked, |f| asked.min(f)) as u64
}

/// The frames of the pool chosen so far (indices, in order, each once).
struct Picker<'a> {
    pool: &'a [FrameTime],
    mode: Mode,
    picked: Vec<usize>,
    max: usize,
}

impl Picker<'_> {
    /// Picks the frame for `time` unless it was the last one picked.
    fn pick(&mut self, time: f64) -> Result<usize, PlanError> {
        let index = match self.mode {
            Mode::Exact => on_screen_at(self.pool, time),
            Mode::Keyframes => nearest(self.pool, time),
        };
        if self.picked.last() != Some(&index) {
            if self.picked.len() == self.max {
                return Err(PlanError::TooMany);
            }
            self.picked.push(index);
        }
        Ok(index)
    }

    /// Picks the frame for every `step` seconds from `low` to `last`. Times
    /// that would pick the same frame again are skipped, not visited: an
    /// interval far shorter than the frames' own costs no more than the
    /// frames there are.
    fn every(&mut self, step: f64, low: f64, last: f64) -> Result<(), PlanError> {
        let steps = (last - low) / step + TOLERANCE_S;
        let mut k = 0.0_f64;
        while k <= steps {
            let index = self.pick(low + k * step)?;
            let Some(change) = self.next_change(index) else {
                break;
            };
            // A hair early is harmless (the same frame is skipped again).
            let first_to_change = ((change - low) / step - 1e-9).ceil();
            k = (k + 1.0).max(first_to_change);
        }
        Ok(())
    }

    /// The earliest time that picks a frame after the pool's `index`.
    fn next_change(&self, index: usize) -> Option<f64> {
        let next = self.pool.get(index + 1)?.pts;
        Some(match self.mode {
            Mode::Exact => next - TOLERANCE_S,
            Mode::Keyframes => (self.pool[index].pts + next) / 2.0,
        })
    }
}

/// The `k`th of `n` times evenly spaced from `low` to `last`, both included.
fn evenly_spaced(low: f64, last: f64, k: u64, n: u64) -> f64 {
    if n < 2 {
        return low;
    }
    low + (last - low) * k as f64 / (n - 1) as f64
}

/// The index of the last frame shown at or before `time` (the first frame if none is).
fn on_screen_at(pool: &[FrameTime], time: f64) -> usize {
    pool.partition_point(|f| f.pts <= time + TOLERANCE_S)
        .saturating_sub(1)
}

/// The index of the frame of `pool` nearest `time`.
fn nearest(pool: &[FrameTime], time: f64) -> usize {
    let after = pool.partition_point(|f| f.pts < time);
    let candidates = [after.checked_sub(1), Some(after)];
    candidates
        .into_iter()
        .flatten()
        .filter(|&i| i < pool.len())
        .min_by(|&a, &b| {
            (pool[a].pts - time)
                .abs()
                .total_cmp(&(pool[b].pts - time).abs())
        })
        .unwrap_or(0)
}

/// Groups the wanted frames into decoding runs: a new run starts (seeking to
/// a keyframe) wherever that lets the decoder skip enough frames to pay for it.
fn runs(frames: &[FrameTime], wanted: &[f64]) -> Vec<ExtractRun> {
    let mut runs: Vec<ExtractRun> = Vec::new();
    let mut previous: Option<f64> = None;
    for &time in wanted {
        let from = previous.unwrap_or(frames[0].pts - 1.0);
        match (runs.last_mut(), seek_point(frames, from, time)) {
            (Some(run), None) => run.wanted.push(time),
            (_, seek_to) => runs.push(ExtractRun {
                seek_to,
                wanted: vec![time],
            }),
        }
        previous = Some(time);
    }
    runs
}

/// Where to seek to get from just after `from` to `to` without decoding the
/// frames between: the last keyframe at or before `to`, when that skips
/// enough frames to be worth starting a new decoder.
fn seek_point(frames: &[FrameTime], from: f64, to: f64) -> Option<f64> {
    let upto = frames.partition_point(|f| f.pts <= to + TOLERANCE_S);
    let keyframe = frames[..upto].iter().rposition(|f| f.keyframe)?;
    let first_after = frames.partition_point(|f| f.pts <= from + TOLERANCE_S);
    (keyframe > first_after && keyframe - first_after > FRAMES_WORTH_A_SEEK)
        .then(|| frames[keyframe].pts + TOLERANCE_S)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 100_000;

    fn ask(selector: Selector, mode: Mode, start_s: Option<f64>, end_s: Option<f64>) -> Wanted {
        Wanted {
            selector,
            mode,
            start_s,
            end_s,
        }
    }

    /// `seconds` of video at `fps` with a keyframe every `gop` frames.
    fn video(seconds: u32, fps: u32, gop: usize) -> Vec<FrameTime> {
        (0..(seconds * fps) as usize)
            .map(|i| FrameTime {
                pts: i as f64 / fps as f64,
                keyframe: i % gop == 0,
            })
            .collect()
    }

    #[test]
    fn short_intervals_decode_in_one_pass() {
        let frames = video(60, 30, 250);
        let plan = plan(
            &frames,
            ask(Selector::Interval(1.0), Mode::Exact, None, None),
            MAX,
        )
        .unwrap();
        assert_eq!(plan.wanted.len(), 60);
        assert!((plan.wanted[7] - 7.0).abs() < 1e-9);
        assert_eq!(plan.runs.len(), 1);
        assert_eq!(plan.runs[0].seek_to, None);
    }

    #[test]
    fn long_intervals_seek() {
        let frames = video(180, 30, 250);
        let plan = plan(
            &frames,
            ask(Selector::Interval(10.0), Mode::Exact, None, None),
            MAX,
        )
        .unwrap();
        assert_eq!(plan.wanted.len(), 18);
        assert!(plan.runs.len() > 10, "{:?}", plan.runs);
        let all: Vec<f64> = plan.runs.iter().flat_map(|r| r.wanted.clone()).collect();
        assert_eq!(all, plan.wanted);
    }

    #[test]
    fn the_frame_on_screen_is_the_last_one_shown() {
        // 29.97 fps: no frame sits exactly on a whole second after zero.
        let frames: Vec<FrameTime> = (0..300)
            .map(|i| FrameTime {
                pts: i as f64 * 1001.0 / 30000.0,
                keyframe: i == 0,
            })
            .collect();
        let plan = plan(
            &frames,
            ask(Selector::Interval(1.0), Mode::Exact, None, None),
            MAX,
        )
        .unwrap();
        for (k, pts) in plan.wanted.iter().enumerate() {
            assert!(
                *pts <= k as f64 && k as f64 - pts < 1001.0 / 30000.0,
                "{k}: {pts}"
            );
        }
    }

    #[test]
    fn every_n_frames_count_and_range() {
        let frames = video(10, 10, 50);
        let every = plan(
            &frames,
            ask(Selector::EveryNFrames(25), Mode::Exact, None, None),
            MAX,
        )
        .unwrap();
        assert_eq!(every.wanted, [0.0, 2.5, 5.0, 7.5]);
        let count = plan(
            &frames,
            ask(Selector::Count(3), Mode::Exact, Some(2.0), Some(6.0)),
            MAX,
        )
        .unwrap();
        assert_eq!(count.wanted, [2.0, 4.0, 6.0]);
        assert_eq!(
            plan(
                &frames,
                ask(Selector::Count(3), Mode::Exact, Some(20.0), None),
                MAX
            ),
            Err(PlanError::NoFrames)
        );
    }

    #[test]
    fn keyframes_mode_takes_the_nearest_keyframes() {
        let frames = video(20, 10, 30);
        let plan = plan(
            &frames,
            ask(Selector::Interval(4.0), Mode::Keyframes, None, None),
            MAX,
        )
        .unwrap();
        assert_eq!(plan.wanted, [0.0, 3.0, 9.0, 12.0, 15.0]);
    }

    #[test]
    fn a_tiny_interval_costs_no_more_than_the_frames_there_are() {
        // Two frames, the second a hundred hours in: a header can claim anything.
        let frames = [
            FrameTime {
                pts: 0.0,
                keyframe: true,
            },
            FrameTime {
                pts: 360_000.0,
                keyframe: false,
            },
        ];
        for mode in [Mode::Exact, Mode::Keyframes] {
            let plan = plan(
                &frames,
                ask(Selector::Interval(1e-17), mode, None, None),
                MAX,
            )
            .unwrap();
            assert!(plan.wanted.len() <= 2, "{:?}", plan.wanted);
        }
        let plan = plan(
            &frames,
            ask(Selector::Interval(0.01), Mode::Exact, None, None),
            MAX,
        )
        .unwrap();
        assert_eq!(plan.wanted, [0.0, 360_000.0]);
    }

    #[test]
    fn a_tiny_interval_takes_every_frame_once() {
        let frames = video(10, 30, 250);
        let plan = plan(
            &frames,
            ask(Selector::Interval(1e-6), Mode::Exact, None, None),
            MAX,
        )
        .unwrap();
        assert_eq!(plan.wanted.len(), frames.len());
    }

    #[test]
    fn more_frames_than_allowed_is_refused() {
        let frames = video(60, 30, 250);
        let every = ask(Selector::EveryNFrames(1), Mode::Exact, None, None);
        assert_eq!(plan(&frames, every, 1000), Err(PlanError::TooMany));
        assert_eq!(plan(&frames, every, 1800).unwrap().wanted.len(), 1800);
        let interval = ask(Selector::Interval(0.001), Mode::Exact, None, None);
        assert_eq!(plan(&frames, interval, 1000), Err(PlanError::TooMany));
    }

    fn probe(duration_s: f64, frame_count: u64) -> Probe {
        Probe {
            format: "mov".into(),
            duration_s: Some(duration_s),
            size_bytes: None,
            bit_rate: None,
            video_codec: "h264".into(),
            width: 64,
            height: 64,
            frame_rate: Some(25.0),
            frame_count: Some(frame_count),
            rotation: 0,
            pixel_format: None,
            audio: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn the_estimate_is_bounded_by_the_frames_the_header_declares() {
        let declared = probe(360_000.0, 2);
        assert_eq!(
            estimated_count(&declared, Selector::Interval(0.01), None, None),
            2
        );
        let long = probe(360_000.0, 9_000_000);
        assert!(estimated_count(&long, Selector::Interval(0.01), None, None) > MAX);
        assert_eq!(
            estimated_count(&long, Selector::Interval(1e-17), None, None),
            9_000_000
        );
        let minute = probe(60.0, 1500);
        assert_eq!(
            estimated_count(&minute, Selector::Interval(1.0), Some(10.0), Some(20.0)),
            11
        );
        assert_eq!(
            estimated_count(&minute, Selector::EveryNFrames(10), None, None),
            150
        );
        assert_eq!(
            estimated_count(&minute, Selector::Count(20), None, None),
            20
        );
    }
}
