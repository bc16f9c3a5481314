//! Cleaning a joint-angle (or coordinate) time series the way biomechanists
//! do: fill short gaps, reject outliers (Hampel), then a zero-phase
//! Butterworth low-pass. Missing samples are `None`.

/// Gaps of at most this many frames are filled by linear interpolation.
pub const MAX_GAP_FRAMES: usize = 10;
/// Hampel window: this many samples on each side.
const HAMPEL_HALF_WINDOW: usize = 3;
/// Hampel threshold in scaled median absolute deviations.
const HAMPEL_SIGMAS: f64 = 3.0;
/// MAD × this estimates the standard deviation of normal data.
const MAD_TO_SIGMA: f64 = 1.4826;
/// Samples mirrored at each end before filtering, against edge transients.
const EDGE_PAD: usize = 15;

/// What [`clean`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Cleaned {
    pub values: Vec<Option<f64>>,
    /// Samples replaced as outliers.
    pub outliers: usize,
    /// Samples filled in gaps.
    pub filled: usize,
    /// Why the low-pass was skipped, when it was.
    pub note: Option<String>,
}

/// Fills gaps of up to [`MAX_GAP_FRAMES`], replaces outliers, and low-passes
/// at `cutoff_hz` with a zero-phase 4th-order Butterworth (a 2nd-order filter
/// run forwards and backwards, its cutoff corrected for the two passes as
/// Winter describes), each unbroken stretch on its own.
pub fn clean(values: &[Option<f64>], fps: f64, cutoff_hz: f64) -> Cleaned {
    let (mut values, outliers) = hampel(values);
    let filled = fill_gaps(&mut values);
    let note = if cutoff_hz >= 0.45 * fps {
        Some(format!(
            "low-pass skipped: {cutoff_hz} Hz is too close to half the frame rate ({fps} fps)"
        ))
    } else {
        let filter = Biquad::butterworth_low_pass(cutoff_hz, fps);
        for stretch in stretches(&values) {
            let samples: Vec<f64> = values[stretch.clone()].iter().flatten().copied().collect();
            for (slot, value) in values[stretch].iter_mut().zip(filter.zero_phase(&samples)) {
                *slot = Some(value);
            }
        }
        None
    };
    Cleaned {
        values,
        outliers,
        filled,
        note,
    }
}

/// Replaces each sample further than [`HAMPEL_SIGMAS`] scaled MADs from the
/// median of its window by that median.
fn hampel(values: &[Option<f64>]) -> (Vec<Option<f64>>, usize) {
    let mut out = values.to_vec();
    let mut replaced = 0;
    for (i, value) in values.iter().enumerate() {
        let Some(value) = value else { continue };
        let from = i.saturating_sub(HAMPEL_HALF_WINDOW);
        let to = (i + HAMPEL_HALF_WINDOW + 1).min(values.len());
        let window: Vec<f64> = values[from..to].iter().flatten().copied().collect();
        if window.len() < 3 {
            continue;
        }
        let centre = median(window.clone());
        let mad = median(window.iter().map(|v| (v - centre).abs()).collect());
        if (value - centre).abs() > HAMPEL_SIGMAS * MAD_TO_SIGMA * mad {
            out[i] = Some(centre);
            replaced += 1;
        }
    }
    (out, replaced)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// Interpolates interior gaps of at most [`MAX_GAP_FRAMES`]; returns how
/// many samples it filled.
fn fill_gaps(values: &mut [Option<f64>]) -> usize {
    let known: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_some()).collect();
    let mut filled = 0;
    for pair in known.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let gap = b - a - 1;
        if gap == 0 || gap > MAX_GAP_FRAMES {
            continue;
        }
        let (va, vb) = (values[a].unwrap_or_default(), values[b].unwrap_or_default());
        for (step, slot) in values[a + 1..b].iter_mut().enumerate() {
            let t = (step + 1) as f64 / (b - a) as f64;
            *slot = Some(va + t * (vb - va));
        }
        filled += gap;
    }
    filled
}

/// The index ranges of unbroken runs of samples.
fn stretches(values: &[Option<f64>]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, value) in values.iter().enumerate() {
        match (value, start) {
            (Some(_), None) => start = Some(i),
            (None, Some(s)) => {
                runs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push(s..values.len());
    }
    runs
}

/// A second-order IIR section.
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    /// A 2nd-order Butterworth low-pass by the bilinear transform, its cutoff
    /// raised so that two passes (forwards and backwards) cut at `cutoff_hz`.
    fn butterworth_low_pass(cutoff_hz: f64, fps: f64) -> Self {
        // Two passes of a 2nd-order filter: Winter's correction (√2 − 1)^¼.
        let correction = (2f64.sqrt() - 1.0).powf(0.25);
        let warped = (std::f64::consts::PI * cutoff_hz / fps).tan() / correction;
        let k = 2f64.sqrt() * warped;
        let w2 = warped * warped;
        let norm = 1.0 + k + w2;
        Self {
            b: [w2 / norm, 2.0 * w2 / norm, w2 / norm],
            a: [2.0 * (w2 - 1.0) / norm, (1.0 - k + w2) / norm],
        }
    }

    /// Filters forwards then backwards: no phase lag. The ends are padded
    /// with a point reflection so the filter starts settled.
    fn zero_phase(&self, samples: &[f64]) -> Vec<f64> {
        if samples.len() < 2 {
            return samples.to_vec();
        }
        let pad = EDGE_PAD.min(samples.len() - 1);
        let (first, last) = (samples[0], samples[samples.len() - 1]);
        let mut padded: Vec<f64> = (1..=pad).rev().map(|i| 2.0 * first - samples[i]).collect();
        padded.extend_from_slice(samples);
        padded.extend((1..=pad).map(|i| 2.0 * last - samples[samples.len() - 1 - i]));
        let forward = self.pass(padded.into_iter());
        let backward = self.pass(forward.into_iter().rev());
        backward
            .into_iter()
            .rev()
            .skip(pad)
            .take(samples.len())
            .collect()
    }

    /// One pass, its state started as if the first sample had always been there.
    fn pass(&self, samples: impl Iterator<Item = f64>) -> Vec<f64> {
        let mut out = Vec::new();
        let (mut x1, mut x2, mut y1, mut y2) = (None, 0.0, 0.0, 0.0);
        for x in samples {
            if x1.is_none() {
                (x2, y1, y2) = (x, x, x);
                x1 = Some(x);
            }
            let prev = x1.unwrap_or(x);
            let y =
                self.b[0] * x + self.b[1] * prev + self.b[2] * x2 - self.a[0] * y1 - self.a[1] * y2;
            (x2, x1, y2, y1) = (prev, Some(x), y1, y);
            out.push(y);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(hz: f64, fps: f64, n: usize) -> Vec<Option<f64>> {
        (0..n)
            .map(|i| Some((2.0 * std::f64::consts::PI * hz * i as f64 / fps).sin()))
            .collect()
    }

    fn amplitude(values: &[Option<f64>]) -> f64 {
        // The middle, away from the ends.
        let n = values.len();
        values[n / 4..3 * n / 4]
            .iter()
            .flatten()
            .fold(0.0, |m, v| m.max(v.abs()))
    }

    #[test]
    fn slow_motion_passes_unchanged_and_without_lag() {
        let input = sine(1.0, 100.0, 400);
        let out = clean(&input, 100.0, 6.0);
        assert!(out.note.is_none());
        for (a, b) in input.iter().zip(&out.values).skip(50).take(300) {
            assert!((a.unwrap() - b.unwrap()).abs() < 0.02, "{a:?} {b:?}");
        }
    }

    #[test]
    fn fast_jitter_is_removed_and_the_cutoff_halves_power() {
        let out = clean(&sine(25.0, 100.0, 400), 100.0, 6.0);
        assert!(amplitude(&out.values) < 0.02, "{}", amplitude(&out.values));
        let at_cutoff = clean(&sine(6.0, 100.0, 400), 100.0, 6.0);
        let gain = amplitude(&at_cutoff.values);
        assert!((gain - 0.707).abs() < 0.05, "{gain}");
    }

    #[test]
    fn a_constant_stays_constant() {
        let out = clean(&vec![Some(42.0); 50], 30.0, 6.0);
        assert!(out.values.iter().all(|v| (v.unwrap() - 42.0).abs() < 1e-9));
    }

    #[test]
    fn short_gaps_are_filled_and_long_ones_kept() {
        let mut input: Vec<Option<f64>> = (0..60).map(|i| Some(i as f64)).collect();
        for slot in &mut input[10..15] {
            *slot = None;
        }
        for slot in &mut input[30..45] {
            *slot = None;
        }
        let out = clean(&input, 30.0, 6.0);
        assert_eq!(out.filled, 5);
        assert!((out.values[12].unwrap() - 12.0).abs() < 0.5);
        assert!(out.values[30..45].iter().all(Option::is_none));
    }

    #[test]
    fn an_outlier_is_rejected() {
        let mut input = vec![Some(10.0); 30];
        input[15] = Some(90.0);
        let out = clean(&input, 30.0, 6.0);
        assert_eq!(out.outliers, 1);
        assert!(out.values.iter().all(|v| (v.unwrap() - 10.0).abs() < 1e-6));
    }

    #[test]
    fn a_frame_rate_too_low_skips_the_low_pass_with_a_note() {
        let out = clean(&sine(1.0, 10.0, 40), 10.0, 6.0);
        assert!(out.note.unwrap().contains("too close"));
    }
}
