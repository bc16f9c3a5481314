//! The pose tracker against MediaPipe itself on real photos of people: the
//! reference landmarks (`reference/photos.json`) were made by PyPI
//! `mediapipe==0.10.14` with the same models (`reference/make_reference.py`).

use std::path::{Path, PathBuf};

use kinoflow_vision::inference::InferenceSettings;
use kinoflow_vision::pose::{ModelFiles, PoseTracker};
use kinoflow_vision::{RgbFrame, Runtime};
use serde_json::Value;

/// Shoulders, elbows, wrists, hips, knees, ankles.
const LIMB_POINTS: [usize; 12] = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The tracker on the runtime a node chooses by default (ONNX Runtime when
/// its library loads, else tract).
fn tracker() -> PoseTracker {
    let runtime = Runtime::start(&InferenceSettings::default()).unwrap();
    PoseTracker::load(
        &ModelFiles::in_dir(&repo().join("models"), "full"),
        &runtime,
    )
    .unwrap()
}

/// Distances from MediaPipe's limb landmarks, in fractions of the height.
fn limb_errors(name: &str) -> Vec<f32> {
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("crates/vision/tests/reference/photos.json")).unwrap(),
    )
    .unwrap();
    let photo = image::open(repo().join("fixtures").join(name))
        .unwrap()
        .to_rgb8();
    let (width, height) = (photo.width() as usize, photo.height() as usize);
    let frame = RgbFrame::new(width, height, photo.as_raw()).unwrap();
    let pose = tracker()
        .still_image(&frame)
        .unwrap()
        .unwrap_or_else(|| panic!("no person found in {name}"));
    assert_eq!(pose.landmarks.len(), 33);
    assert_eq!(pose.world.len(), 33);
    let expected = &reference[name]["landmarks"];
    LIMB_POINTS
        .iter()
        .map(|&i| {
            let (x, y) = (
                expected[i][0].as_f64().unwrap(),
                expected[i][1].as_f64().unwrap(),
            );
            let got = pose.landmarks[i];
            (got.x - x as f32).hypot(got.y - y as f32) / height as f32
        })
        .collect()
}

fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

#[test]
fn limb_landmarks_match_mediapipe_on_real_photos() {
    for name in ["messi5.jpg", "basketball1.png"] {
        let errors = limb_errors(name);
        let worst = errors.iter().copied().fold(0.0, f32::max);
        assert!(median(errors.clone()) <= 0.015, "{name}: {errors:?}");
        assert!(worst <= 0.04, "{name}: {errors:?}");
    }
}

#[test]
fn a_frame_without_a_person_gives_none() {
    let grey = vec![128u8; 320 * 240 * 3];
    let frame = RgbFrame::new(320, 240, &grey).unwrap();
    assert!(tracker().track(&frame, 0.0).unwrap().is_none());
}
