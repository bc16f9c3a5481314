//! Which frames to extract and how to decode them, worked out from the
//! container's frame list before anything is decoded.

use kinoflow_media::{ExtractRun, FrameTime};

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

/// Plans the extraction; `None` when no frame lies in the range.
pub fn plan(
    frames: &[FrameTime],
    selector: Selector,
    mode: Mode,
    start_s: Option<f64>,
    end_s: Option<f64>,
) -> Option<Plan> {
    let origin = frames.first()?.pts;
    let low = origin + start_s.unwrap_or(0.0);
    let high = end_s.map_or(f64::INFINITY, |end| origin + end);
    let in_range: Vec<FrameTime> = frames
        .iter()
        .copied()
        .filter(|f| f.pts >= low - TOLERANCE_S && f.pts <= high + TOLERANCE_S)
        .collect();
    let last = in_range.last()?.pts;
    let targets = targets(&in_range, selector, low, last);
    let pool: Vec<FrameTime> = match mode {
        Mode::Exact => in_range.clone(),
        Mode::Keyframes => in_range.iter().copied().filter(|f| f.keyframe).collect(),
    };
    if pool.is_empty() {
        return None;
    }
    let mut wanted: Vec<f64> = targets
        .iter()
        .map(|&target| match mode {
            Mode::Exact => on_screen_at(&pool, target),
            Mode::Keyframes => nearest(&pool, target),
        })
        .collect();
    wanted.dedup_by(|a, b| (*a - *b).abs() < TOLERANCE_S);
    let runs = match mode {
        Mode::Exact => runs(frames, &wanted),
        Mode::Keyframes => vec![ExtractRun {
            seek_to: None,
            wanted: wanted.clone(),
        }],
    };
    Some(Plan {
        wanted,
        runs,
        origin,
        span: (low, last),
    })
}

/// The times the user asked for, in order.
fn targets(in_range: &[FrameTime], selector: Selector, low: f64, last: f64) -> Vec<f64> {
    match selector {
        Selector::Interval(step) => {
            let count = ((last - low) / step + TOLERANCE_S).floor() as u64 + 1;
            (0..count).map(|k| low + k as f64 * step).collect()
        }
        Selector::EveryNFrames(n) => in_range
            .iter()
            .step_by(n.max(1) as usize)
            .map(|f| f.pts)
            .collect(),
        Selector::Count(1) => vec![low],
        Selector::Count(n) => (0..n)
            .map(|k| low + (last - low) * k as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// The last frame shown at or before `time` (the first frame if none is).
fn on_screen_at(pool: &[FrameTime], time: f64) -> f64 {
    let after = pool.partition_point(|f| f.pts <= time + TOLERANCE_S);
    pool[after.saturating_sub(1)].pts
}

/// The frame of `pool` nearest `time`.
fn nearest(pool: &[FrameTime], time: f64) -> f64 {
    let after = pool.partition_point(|f| f.pts < time);
    let candidates = [after.checked_sub(1), Some(after)];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|i| pool.get(i))
        .min_by(|a, b| (a.pts - time).abs().total_cmp(&(b.pts - time).abs()))
        .map_or(pool[0].pts, |f| f.pts)
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
        let plan = plan(&frames, Selector::Interval(1.0), Mode::Exact, None, None).unwrap();
        assert_eq!(plan.wanted.len(), 60);
        assert!((plan.wanted[7] - 7.0).abs() < 1e-9);
        assert_eq!(plan.runs.len(), 1);
        assert_eq!(plan.runs[0].seek_to, None);
    }

    #[test]
    fn long_intervals_seek() {
        let frames = video(180, 30, 250);
        let plan = plan(&frames, Selector::Interval(10.0), Mode::Exact, None, None).unwrap();
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
        let plan = plan(&frames, Selector::Interval(1.0), Mode::Exact, None, None).unwrap();
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
        let every = plan(&frames, Selector::EveryNFrames(25), Mode::Exact, None, None).unwrap();
        assert_eq!(every.wanted, [0.0, 2.5, 5.0, 7.5]);
        let count = plan(
            &frames,
            Selector::Count(3),
            Mode::Exact,
            Some(2.0),
            Some(6.0),
        )
        .unwrap();
        assert_eq!(count.wanted, [2.0, 4.0, 6.0]);
        assert!(plan(&frames, Selector::Count(3), Mode::Exact, Some(20.0), None).is_none());
    }

    #[test]
    fn keyframes_mode_takes_the_nearest_keyframes() {
        let frames = video(20, 10, 30);
        let plan = plan(
            &frames,
            Selector::Interval(4.0),
            Mode::Keyframes,
            None,
            None,
        )
        .unwrap();
        assert_eq!(plan.wanted, [0.0, 3.0, 9.0, 12.0, 15.0]);
    }
}
