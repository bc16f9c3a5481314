//! The data files of an `emotion` run: `emotions.csv` (every face in every
//! analysed frame, raw), `timeline.json` (each person's smoothed series and
//! segments) and `summary.json`.

use std::fmt::Write;

use kinoflow_vision::face::EMOTIONS;
use serde_json::{json, Value};

use super::analysis::Observed;
use super::timeline::{argmax, name, Person};

/// One row per face per analysed frame.
pub fn emotions_csv(observed: &Observed) -> String {
    let mut csv = String::from("frame,time_s,face_id,x,y,w,h,score,");
    csv.push_str(&EMOTIONS.join(","));
    csv.push_str(",label\n");
    for frame in &observed.sampled {
        for face in &frame.faces {
            let [x, y, w, h] = face.bbox;
            // Writing to a String cannot fail.
            let _ = write!(
                csv,
                "{},{:.4},{},{x:.1},{y:.1},{w:.1},{h:.1},{:.4}",
                frame.frame, frame.time_s, face.face_id, face.score
            );
            for p in face.probabilities {
                let _ = write!(csv, ",{p:.4}");
            }
            let _ = writeln!(csv, ",{}", name(argmax(&face.probabilities)));
        }
    }
    csv
}

/// Per person: the smoothed probabilities and label of each moment, and the
/// segments of one emotion.
pub fn timeline(people: &[Person], period_s: f64, smooth_s: f64) -> Value {
    let persons: Vec<Value> = people
        .iter()
        .map(|person| {
            let probabilities: serde_json::Map<String, Value> = EMOTIONS
                .iter()
                .enumerate()
                .map(|(k, emotion)| {
                    let series: Vec<f64> = person
                        .smoothed
                        .iter()
                        .map(|p| round4(f64::from(p[k])))
                        .collect();
                    ((*emotion).to_owned(), json!(series))
                })
                .collect();
            let segments: Vec<Value> = person
                .segments(period_s)
                .iter()
                .map(|s| json!({"emotion": name(s.emotion), "start_s": round4(s.start_s), "end_s": round4(s.end_s)}))
                .collect();
            json!({
                "face_id": person.face_id,
                "times_s": person.times.iter().map(|&t| round4(t)).collect::<Vec<_>>(),
                "probabilities": probabilities,
                "labels": person.labels.iter().map(|&l| name(l)).collect::<Vec<_>>(),
                "segments": segments,
            })
        })
        .collect();
    json!({"smooth_s": smooth_s, "emotions": EMOTIONS, "persons": persons})
}

/// What the run chose and found, for the summary.
pub struct Settings {
    pub sample_fps: f64,
    pub min_face_px: u32,
    pub min_score: f32,
    pub smooth_s: f64,
    /// What ran the models: `onnxruntime` or `tract`.
    pub inference: &'static str,
    /// How long the video lasts, as its container says, when it says.
    pub duration_s: Option<f64>,
}

/// Per person: time on screen, dominant emotion, the share of each; and
/// what was analysed.
pub fn summary(observed: &Observed, people: &[Person], settings: &Settings) -> Value {
    let persons: Vec<Value> = people
        .iter()
        .map(|person| {
            let shares: serde_json::Map<String, Value> = EMOTIONS
                .iter()
                .zip(person.shares())
                .map(|(emotion, share)| ((*emotion).to_owned(), json!(round4(share))))
                .collect();
            json!({
                "face_id": person.face_id,
                "seconds_on_screen": round4(person.seconds_on_screen),
                "first_seen_s": person.times.first().map(|&t| round4(t)),
                "last_seen_s": person.times.last().map(|&t| round4(t)),
                "dominant_emotion": name(person.dominant()),
                "shares": shares,
            })
        })
        .collect();
    let with_faces = observed
        .sampled
        .iter()
        .filter(|f| !f.faces.is_empty())
        .count();
    json!({
        "duration_s": settings.duration_s.map(round4),
        "frames": observed.frames_decoded,
        "frames_analysed": observed.sampled.len(),
        "frames_with_faces": with_faces,
        "faces_skipped_small": observed.skipped_small,
        "persons": persons,
        "settings": {
            "sample_fps": settings.sample_fps,
            "min_face_px": settings.min_face_px,
            "min_score": settings.min_score,
            "smooth_s": settings.smooth_s,
        },
        "models": {"detector": "BlazeFace full range", "classifier": "FER-2013 mini-Xception (fer)"},
        "inference": settings.inference,
    })
}

fn round4(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}
