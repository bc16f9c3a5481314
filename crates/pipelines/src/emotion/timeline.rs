//! Each person's emotions over time: their faces' probabilities averaged
//! over a short window (the raw ones stay in `emotions.csv`), the label of
//! each moment, runs of one emotion, and what dominated.

use kinoflow_vision::face::EMOTIONS;

use super::analysis::{Observed, SeenFace};

/// One person's series.
pub struct Person {
    pub face_id: u32,
    pub times: Vec<f64>,
    /// Per moment, the 7 smoothed probabilities.
    pub smoothed: Vec<[f32; 7]>,
    /// Per moment, the emotion with the highest smoothed probability.
    pub labels: Vec<usize>,
    /// Seconds the face was seen: analysed frames × the sampling period.
    pub seconds_on_screen: f64,
}

/// A run of one emotion.
pub struct Segment {
    pub emotion: usize,
    pub start_s: f64,
    pub end_s: f64,
}

impl Person {
    /// Runs of one label while the face is seen; each ends where the next
    /// begins, or one sampling period after its last moment when the face
    /// goes away (a gap longer than 1.5 periods) or the video ends.
    pub fn segments(&self, period_s: f64) -> Vec<Segment> {
        let mut segments: Vec<Segment> = Vec::new();
        let mut previous: Option<f64> = None;
        for (&time, &emotion) in self.times.iter().zip(&self.labels) {
            let seen_since = previous.is_some_and(|p| time - p <= 1.5 * period_s);
            previous = Some(time);
            match segments.last_mut() {
                Some(last) if seen_since && last.emotion == emotion => last.end_s = time + period_s,
                _ => {
                    if let Some(last) = segments.last_mut().filter(|_| seen_since) {
                        last.end_s = time;
                    }
                    segments.push(Segment {
                        emotion,
                        start_s: time,
                        end_s: time + period_s,
                    });
                }
            }
        }
        segments
    }

    /// The share of the person's moments each emotion was the label of.
    pub fn shares(&self) -> [f64; 7] {
        let mut shares = [0.0; 7];
        for &label in &self.labels {
            shares[label] += 1.0;
        }
        let total = self.labels.len().max(1) as f64;
        shares.map(|count| count / total)
    }

    /// The emotion that was the label most often.
    pub fn dominant(&self) -> usize {
        argmax(&self.shares().map(|s| s as f32))
    }
}

/// Every person seen, by id, with probabilities averaged over `smooth_s`.
pub fn people(observed: &Observed, smooth_s: f64) -> Vec<Person> {
    let mut ids: Vec<u32> = observed
        .sampled
        .iter()
        .flat_map(|f| f.faces.iter().map(|face| face.face_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let seen: Vec<(f64, &SeenFace)> = observed
                .sampled
                .iter()
                .filter_map(|f| Some((f.time_s, f.faces.iter().find(|x| x.face_id == id)?)))
                .collect();
            let times: Vec<f64> = seen.iter().map(|(t, _)| *t).collect();
            let raw: Vec<[f32; 7]> = seen.iter().map(|(_, f)| f.probabilities).collect();
            let smoothed = smooth(&times, &raw, smooth_s);
            let labels = smoothed.iter().map(|p| argmax(p)).collect();
            Person {
                face_id: id,
                seconds_on_screen: times.len() as f64 * observed.period_s,
                times,
                smoothed,
                labels,
            }
        })
        .collect()
}

/// Each moment's probabilities averaged with those within `window_s`
/// centred on it (a window of 0 keeps them as they are); `times` ascend.
fn smooth(times: &[f64], raw: &[[f32; 7]], window_s: f64) -> Vec<[f32; 7]> {
    const SLACK: f64 = 1e-9;
    let half = window_s / 2.0;
    let (mut first, mut end) = (0, 0);
    let mut sum = [0.0f64; 7];
    times
        .iter()
        .map(|&t| {
            while end < times.len() && times[end] <= t + half + SLACK {
                sum.iter_mut()
                    .zip(raw[end])
                    .for_each(|(s, v)| *s += f64::from(v));
                end += 1;
            }
            while times[first] < t - half - SLACK {
                sum.iter_mut()
                    .zip(raw[first])
                    .for_each(|(s, v)| *s -= f64::from(v));
                first += 1;
            }
            let count = (end - first) as f64;
            sum.map(|s| (s / count) as f32)
        })
        .collect()
}

/// The index of the largest value (the first on a tie).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold(
            (0, f32::MIN),
            |best, (i, &v)| if v > best.1 { (i, v) } else { best },
        )
        .0
}

/// An emotion's name.
pub fn name(emotion: usize) -> &'static str {
    EMOTIONS[emotion]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(emotion: usize) -> [f32; 7] {
        let mut p = [0.0; 7];
        p[emotion] = 1.0;
        p
    }

    #[test]
    fn a_one_frame_flicker_is_smoothed_away_and_runs_become_segments() {
        let times: Vec<f64> = (0..10).map(|i| i as f64 * 0.1).collect();
        let mut raw: Vec<[f32; 7]> = (0..10)
            .map(|i| one_hot(if i < 6 { 3 } else { 6 }))
            .collect();
        raw[2] = one_hot(4);
        let smoothed = smooth(&times, &raw, 0.5);
        let person = Person {
            face_id: 1,
            labels: smoothed.iter().map(|p| argmax(p)).collect(),
            times,
            smoothed,
            seconds_on_screen: 1.0,
        };
        assert_eq!(person.labels[2], 3, "the flicker stays happy");
        let segments = person.segments(0.1);
        assert_eq!(segments.len(), 2);
        assert_eq!((segments[0].emotion, segments[1].emotion), (3, 6));
        assert!((segments[1].end_s - 1.0).abs() < 1e-9);
        assert_eq!(person.dominant(), 3);
    }

    #[test]
    fn a_face_away_for_a_while_splits_its_segment() {
        let person = Person {
            face_id: 1,
            times: vec![0.0, 0.1, 5.0, 5.1],
            smoothed: vec![one_hot(3); 4],
            labels: vec![3; 4],
            seconds_on_screen: 0.4,
        };
        let segments = person.segments(0.1);
        assert_eq!(segments.len(), 2);
        assert!((segments[0].end_s - 0.2).abs() < 1e-9);
        assert!((segments[1].start_s - 5.0).abs() < 1e-9);
    }
}
