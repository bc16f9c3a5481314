//! Running a model: one small interface ([`InferenceBackend`]) with two
//! runtimes behind it, chosen once per process ([`Runtime::start`]): ONNX
//! Runtime, loaded from its shared library at run time, and `tract`, the
//! pure-Rust fallback that needs nothing installed.

#[cfg(feature = "onnxruntime")]
mod onnxruntime;
mod settings;
mod tract;

use std::path::Path;

pub use settings::{default_ort_library, parse_providers, Choice, InferenceSettings, Provider};
pub use tract::TractModel;

use crate::VisionError;

/// Runs one model on one f32 tensor of the shape the model was loaded for
/// and gives every output, flattened, in the model's output order.
pub trait InferenceBackend: Send + Sync {
    fn run(&self, input: Vec<f32>) -> Result<Vec<Vec<f32>>, VisionError>;
}

/// The runtime this process runs its models with.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    /// Why `auto` fell back to tract, when it did.
    fallback: Option<String>,
}

#[derive(Clone)]
enum Engine {
    Tract,
    #[cfg(feature = "onnxruntime")]
    OnnxRuntime(onnxruntime::OrtRuntime),
}

impl Runtime {
    /// The runtime `settings` choose. `ort` fails when ONNX Runtime cannot be
    /// loaded, naming the file it tried; `auto` then falls back to tract and
    /// says why in [`Runtime::fallback`].
    pub fn start(settings: &InferenceSettings) -> Result<Self, VisionError> {
        match settings.choice {
            Choice::Tract => Ok(Self::tract()),
            Choice::Ort => Self::onnxruntime(settings),
            Choice::Auto => Ok(Self::onnxruntime(settings).unwrap_or_else(|e| Self {
                engine: Engine::Tract,
                fallback: Some(e.to_string()),
            })),
        }
    }

    /// Pure-Rust inference, which needs nothing installed.
    pub fn tract() -> Self {
        Self {
            engine: Engine::Tract,
            fallback: None,
        }
    }

    #[cfg(feature = "onnxruntime")]
    fn onnxruntime(settings: &InferenceSettings) -> Result<Self, VisionError> {
        Ok(Self {
            engine: Engine::OnnxRuntime(onnxruntime::OrtRuntime::start(settings)?),
            fallback: None,
        })
    }

    #[cfg(not(feature = "onnxruntime"))]
    fn onnxruntime(_settings: &InferenceSettings) -> Result<Self, VisionError> {
        Err(VisionError::Runtime(
            "this build of kinoflow has no ONNX Runtime support (feature `onnxruntime`)".into(),
        ))
    }

    /// `onnxruntime` or `tract`: what `/ready` and each job's summary name.
    pub fn name(&self) -> &'static str {
        match &self.engine {
            Engine::Tract => "tract",
            #[cfg(feature = "onnxruntime")]
            Engine::OnnxRuntime(_) => "onnxruntime",
        }
    }

    /// The runtime in a few words for the log: its version and execution
    /// providers where it has them.
    pub fn description(&self) -> String {
        match &self.engine {
            Engine::Tract => "tract (pure Rust, CPU)".to_owned(),
            #[cfg(feature = "onnxruntime")]
            Engine::OnnxRuntime(runtime) => runtime.description(),
        }
    }

    /// Why `auto` did not get ONNX Runtime, when it did not.
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Loads (and optimises) the ONNX model at `path`, whose one input has
    /// `shape`.
    pub fn load(
        &self,
        path: &Path,
        shape: [usize; 4],
    ) -> Result<Box<dyn InferenceBackend>, VisionError> {
        match &self.engine {
            Engine::Tract => Ok(Box::new(TractModel::load(path, shape)?)),
            #[cfg(feature = "onnxruntime")]
            Engine::OnnxRuntime(runtime) => Ok(Box::new(runtime.load(path, shape)?)),
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("engine", &self.name())
            .field("fallback", &self.fallback)
            .finish()
    }
}

/// The output of `len` values among a model's outputs: outputs are found by
/// size, which says what they are, whatever order the converter left them in.
pub(crate) fn output_of_len(outputs: &[Vec<f32>], len: usize) -> Result<&[f32], VisionError> {
    outputs
        .iter()
        .find(|o| o.len() == len)
        .map(Vec::as_slice)
        .ok_or_else(|| VisionError::Inference(format!("the model gave no output of {len} values")))
}

/// `[1, side, side, 3]`: one RGB image, channels last, as the MediaPipe
/// models take it.
pub(crate) fn rgb_input(side: usize) -> [usize; 4] {
    [1, side, side, 3]
}
