//! Milliseconds per call of each model kinoflow runs, on one runtime: the
//! per-model figures of `bench/biomech`.
//!
//! `model_times MODELS_DIR ort|tract` prints one line per model,
//! `name<TAB>median ms`, after a few warm-up calls.

use std::path::Path;
use std::time::Instant;

use kinoflow_vision::inference::{Choice, InferenceSettings};
use kinoflow_vision::Runtime;

const WARM_UP: usize = 3;
const CALLS: usize = 30;

/// Each model with the shape of its one input.
const MODELS: [(&str, [usize; 4]); 5] = [
    ("pose_detection.onnx", [1, 224, 224, 3]),
    ("pose_landmark_full.onnx", [1, 256, 256, 3]),
    ("pose_landmark_lite.onnx", [1, 256, 256, 3]),
    ("face_detection_back_256.onnx", [1, 256, 256, 3]),
    ("emotion_fer.onnx", [1, 64, 64, 1]),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, models_dir, choice] = args.as_slice() else {
        return Err("usage: model_times MODELS_DIR ort|tract".into());
    };
    let settings = InferenceSettings {
        choice: choice.parse::<Choice>()?,
        ..InferenceSettings::default()
    };
    let runtime = Runtime::start(&settings)?;
    eprintln!("{}", runtime.description());
    for (name, shape) in MODELS {
        let model = runtime.load(&Path::new(models_dir).join(name), shape)?;
        // A mid-grey image: a model's cost does not depend on what it sees.
        let input = vec![0.5f32; shape.iter().product()];
        let mut times = Vec::with_capacity(CALLS);
        for call in 0..WARM_UP + CALLS {
            let started = Instant::now();
            model.run(input.clone())?;
            if call >= WARM_UP {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        println!("{name}\t{:.1}", times[CALLS / 2]);
    }
    Ok(())
}
