//! ONNX Runtime and tract give the same answers on real photos: the pose
//! tracker's landmarks, the face detector's scores and boxes, the emotion
//! classifier's probabilities. A node without ONNX Runtime's library is told
//! which file was looked for.
//!
//! These tests need the library (`scripts/onnxruntime install`, which
//! `scripts/test` runs); `KINOFLOW_ORT_LIBRARY` names another.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView};
use kinoflow_vision::inference::{default_ort_library, Choice, InferenceSettings};
use kinoflow_vision::pose::{ModelFiles, Pose, PoseTracker};
use kinoflow_vision::{RgbFrame, Runtime};

/// The largest difference allowed on anything a pipeline uses.
const TOLERANCE: f32 = 1e-3;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ort_library() -> PathBuf {
    std::env::var_os("KINOFLOW_ORT_LIBRARY")
        .map(PathBuf::from)
        .unwrap_or_else(default_ort_library)
}

fn onnxruntime() -> Runtime {
    let settings = InferenceSettings {
        choice: Choice::Ort,
        ort_library: ort_library(),
        ..InferenceSettings::default()
    };
    Runtime::start(&settings).unwrap_or_else(|e| panic!("{e} (run scripts/onnxruntime install)"))
}

fn photo(name: &str) -> DynamicImage {
    image::open(repo().join("fixtures").join(name)).unwrap()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn sigmoid(values: &[f32]) -> Vec<f32> {
    values.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect()
}

/// What the biomech pipeline takes from a pose: landmarks as fractions of
/// the frame, visibility, world landmarks in metres, the pose score.
fn pose_values(pose: &Pose, width: f32, height: f32) -> Vec<f32> {
    let image = pose
        .landmarks
        .iter()
        .flat_map(|l| [l.x / width, l.y / height, l.visibility]);
    let world = pose.world.iter().flat_map(|w| [w.x, w.y, w.z]);
    image.chain(world).chain([pose.score]).collect()
}

fn still_pose(runtime: &Runtime, name: &str) -> Vec<f32> {
    let photo = photo(name).to_rgb8();
    let (width, height) = (photo.width() as usize, photo.height() as usize);
    let frame = RgbFrame::new(width, height, photo.as_raw()).unwrap();
    let tracker =
        PoseTracker::load(&ModelFiles::in_dir(&repo().join("models"), "full"), runtime).unwrap();
    let pose = tracker
        .still_image(&frame)
        .unwrap()
        .unwrap_or_else(|| panic!("no person found in {name} by {}", runtime.name()));
    pose_values(&pose, width as f32, height as f32)
}

#[test]
fn pose_landmarks_agree_between_runtimes_on_real_photos() {
    let (ort, tract) = (onnxruntime(), Runtime::tract());
    assert_eq!(ort.name(), "onnxruntime");
    for name in ["messi5.jpg", "basketball1.png"] {
        let difference = max_difference(&still_pose(&ort, name), &still_pose(&tract, name));
        assert!(
            difference <= TOLERANCE,
            "{name}: the runtimes differ by {difference}"
        );
    }
}

/// A photo squeezed to `side` × `side` RGB in −1..1, as BlazeFace takes it.
fn face_detector_input(name: &str, side: u32) -> Vec<f32> {
    photo(name)
        .resize_exact(side, side, FilterType::Triangle)
        .to_rgb8()
        .pixels()
        .flat_map(|p| p.0)
        .map(|v| f32::from(v) / 127.5 - 1.0)
        .collect()
}

/// The upper middle of a portrait, 64 × 64 grey in −1..1, as the emotion
/// classifier takes it.
fn emotion_input(name: &str) -> Vec<f32> {
    let photo = photo(name);
    let (width, height) = photo.dimensions();
    photo
        .crop_imm(width / 4, height / 10, width / 2, height / 2)
        .resize_exact(64, 64, FilterType::Triangle)
        .to_luma8()
        .pixels()
        .map(|p| (f32::from(p.0[0]) / 255.0 - 0.5) * 2.0)
        .collect()
}

/// Every output of `model` on `input`, from both runtimes.
fn both_runtimes(model: &str, shape: [usize; 4], input: Vec<f32>) -> [Vec<Vec<f32>>; 2] {
    let path = repo().join("models").join(model);
    [onnxruntime(), Runtime::tract()].map(|runtime| {
        runtime
            .load(&path, shape)
            .unwrap()
            .run(input.clone())
            .unwrap()
    })
}

#[test]
fn face_detections_agree_between_runtimes_on_real_photos() {
    for name in ["astronaut.png", "basketball1.png"] {
        let [ort, tract] = both_runtimes(
            "face_detection_back_256.onnx",
            [1, 256, 256, 3],
            face_detector_input(name, 256),
        );
        assert_eq!(ort.len(), tract.len());
        let mut faces = 0;
        for (a, b) in ort.iter().zip(&tract) {
            if a.len() == 512 || a.len() == 384 {
                let (a, b) = (sigmoid(a), sigmoid(b));
                assert!(max_difference(&a, &b) <= TOLERANCE, "{name}: scores differ");
                faces += a.iter().filter(|&&s| s >= 0.5).count();
            } else {
                // Boxes and keypoints, in pixels of the 256 input: compared
                // as fractions of it, as the pipeline uses them.
                let difference = max_difference(a, b) / 256.0;
                assert!(
                    difference <= TOLERANCE,
                    "{name}: boxes differ by {difference}"
                );
            }
        }
        assert!(faces > 0, "no face found in {name}");
    }
}

#[test]
fn emotions_agree_between_runtimes_on_a_real_face() {
    let [ort, tract] = both_runtimes(
        "emotion_fer.onnx",
        [1, 64, 64, 1],
        emotion_input("astronaut.png"),
    );
    let difference = max_difference(&ort[0], &tract[0]);
    assert!(
        difference <= TOLERANCE,
        "the probabilities differ by {difference}"
    );
}

#[test]
fn a_missing_library_is_named_and_auto_falls_back_to_tract() {
    let missing = PathBuf::from("/nonexistent/kinoflow/libonnxruntime.so");
    let settings = InferenceSettings {
        choice: Choice::Ort,
        ort_library: missing.clone(),
        ..InferenceSettings::default()
    };
    let refused = Runtime::start(&settings).unwrap_err().to_string();
    assert!(refused.contains(missing.to_str().unwrap()), "{refused}");

    let auto = Runtime::start(&InferenceSettings {
        choice: Choice::Auto,
        ..settings
    })
    .unwrap();
    assert_eq!(auto.name(), "tract");
    assert!(auto.fallback().unwrap().contains(missing.to_str().unwrap()));
}
