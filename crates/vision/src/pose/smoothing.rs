//! The One Euro filter (Casiez et al., 2012) on the two auxiliary landmarks
//! that place the next frame's region of interest, as MediaPipe does: without
//! it the region moves with the landmarks' own jitter, the crop changes, and
//! so the landmarks jitter more, even on a still picture.

/// MediaPipe's settings for the auxiliary landmarks: a very low cut-off
/// while still, opening quickly with speed.
const MIN_CUTOFF_HZ: f64 = 0.01;
const BETA: f64 = 10.0;
const DERIVATIVE_CUTOFF_HZ: f64 = 1.0;
/// Assumed until two timestamps give the real rate.
const DEFAULT_RATE_HZ: f64 = 30.0;

/// A first-order low-pass that remembers the last raw value too.
#[derive(Debug, Clone, Default)]
struct LowPass {
    raw: Option<f64>,
    smoothed: f64,
}

impl LowPass {
    fn apply(&mut self, value: f64, alpha: f64) -> f64 {
        self.smoothed = match self.raw {
            Some(_) => alpha * value + (1.0 - alpha) * self.smoothed,
            None => value,
        };
        self.raw = Some(value);
        self.smoothed
    }
}

/// One Euro filter on one coordinate.
#[derive(Debug, Clone, Default)]
struct OneEuro {
    value: LowPass,
    speed: LowPass,
}

impl OneEuro {
    /// Filters `value`; `scale` makes the speed relative to the body's size,
    /// `rate_hz` is the current frame rate.
    fn apply(&mut self, value: f64, scale: f64, rate_hz: f64) -> f64 {
        let speed = self
            .value
            .raw
            .map_or(0.0, |last| (value - last) * scale * rate_hz);
        let speed = self
            .speed
            .apply(speed, alpha(DERIVATIVE_CUTOFF_HZ, rate_hz));
        let cutoff = MIN_CUTOFF_HZ + BETA * speed.abs();
        self.value.apply(value, alpha(cutoff, rate_hz))
    }
}

fn alpha(cutoff_hz: f64, rate_hz: f64) -> f64 {
    let tau = 1.0 / (2.0 * std::f64::consts::PI * cutoff_hz);
    1.0 / (1.0 + tau * rate_hz)
}

/// Smooths the two auxiliary points (centre and scale point, frame pixels)
/// over time.
#[derive(Debug, Clone, Default)]
pub struct AuxSmoother {
    coordinates: [OneEuro; 4],
    last_time_s: Option<f64>,
    rate_hz: Option<f64>,
}

impl AuxSmoother {
    /// Forgets the past: the next points are taken as they are.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The smoothed points for a frame at `time_s`. A time that does not
    /// move forwards gives the points unfiltered (as MediaPipe does).
    pub fn apply(&mut self, points: [(f32, f32); 2], time_s: f64) -> [(f32, f32); 2] {
        if let Some(last) = self.last_time_s {
            if time_s <= last {
                return points;
            }
            self.rate_hz = Some(1.0 / (time_s - last));
        }
        self.last_time_s = Some(time_s);
        let rate = self.rate_hz.unwrap_or(DEFAULT_RATE_HZ);
        // Speeds are measured in body sizes per second, whatever the resolution.
        let [(x0, y0), (x1, y1)] = points.map(|(x, y)| (f64::from(x), f64::from(y)));
        let size = ((x1 - x0).abs() + (y1 - y0).abs()) / 2.0;
        let scale = if size > 0.0 { 1.0 / size } else { 1.0 };
        let [a, b, c, d] = &mut self.coordinates;
        [
            (
                a.apply(x0, scale, rate) as f32,
                b.apply(y0, scale, rate) as f32,
            ),
            (
                c.apply(x1, scale, rate) as f32,
                d.apply(y1, scale, rate) as f32,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_damped_and_a_real_move_is_followed() {
        let mut smoother = AuxSmoother::default();
        let mut last = [(0.0, 0.0); 2];
        for frame in 0..50 {
            let jitter = if frame % 2 == 0 { 2.0 } else { -2.0 };
            last = smoother.apply([(100.0 + jitter, 200.0), (100.0, 0.0)], frame as f64 / 25.0);
        }
        assert!((last[0].0 - 100.0).abs() < 1.0, "{last:?}");
        for frame in 50..100 {
            last = smoother.apply([(300.0, 200.0), (300.0, 0.0)], frame as f64 / 25.0);
        }
        assert!((last[0].0 - 300.0).abs() < 5.0, "{last:?}");
    }
}
