//! Exponential backoff with jitter for transient failures.

use std::time::Duration;

use rand::Rng;

/// The wait after the `attempt`-th failure before any jitter:
/// base × 2^(attempt-1), at most `max`.
pub fn doubling_delay(attempt: i64, base: Duration, max: Duration) -> Duration {
    let exponent = attempt.saturating_sub(1).clamp(0, 30) as u32;
    base.saturating_mul(1u32 << exponent).min(max)
}

/// The wait before attempt `attempt + 1`: the [`doubling_delay`] scaled by a
/// random factor in [0.5, 1.0] so that jobs that failed together do not all
/// come back together.
pub fn retry_delay(attempt: i64, base: Duration, max: Duration) -> Duration {
    doubling_delay(attempt, base, max).mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_within_jitter_and_caps() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(10);
        for attempt in 1..=3 {
            let delay = retry_delay(attempt, base, max);
            let full = base * 2u32.pow(attempt as u32 - 1);
            assert!(delay >= full / 2 && delay <= full, "{attempt}: {delay:?}");
        }
        assert!(retry_delay(40, base, max) <= max);
    }
}
