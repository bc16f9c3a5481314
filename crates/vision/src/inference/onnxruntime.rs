//! Models run by ONNX Runtime, whose shared library is loaded at run time
//! (the `ort` crate's `load-dynamic`): the build downloads nothing, and a node
//! without the library still runs on tract.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ort::environment::Environment;
use ort::ep::{self, ExecutionProvider, ExecutionProviderDispatch};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;

use super::settings::{InferenceSettings, Provider};
use super::InferenceBackend;
use crate::VisionError;

/// ONNX Runtime allows one environment per process, and a library once
/// loaded stays: every [`OrtRuntime`] shares the first one that loaded.
static LOADED: Mutex<Option<Loaded>> = Mutex::new(None);

#[derive(Clone)]
struct Loaded {
    environment: Environment,
    library: PathBuf,
    version: Option<String>,
}

/// ONNX Runtime, loaded and ready to make sessions.
#[derive(Clone)]
pub(super) struct OrtRuntime {
    loaded: Loaded,
    providers: Arc<[Provider]>,
    threads: usize,
}

impl OrtRuntime {
    /// Loads the library `settings` name and checks that it has every
    /// execution provider asked for.
    pub(super) fn start(settings: &InferenceSettings) -> Result<Self, VisionError> {
        let loaded = load(&settings.ort_library)?;
        for &provider in &settings.providers {
            check_available(provider, &loaded.library)?;
        }
        Ok(Self {
            loaded,
            providers: settings.providers.clone().into(),
            threads: settings.threads,
        })
    }

    pub(super) fn description(&self) -> String {
        let providers: Vec<String> = self.providers.iter().map(Provider::to_string).collect();
        format!(
            "onnxruntime {} ({}) from {}",
            self.loaded
                .version
                .as_deref()
                .unwrap_or("(version unknown)"),
            providers.join(", "),
            self.loaded.library.display()
        )
    }

    /// A session for the model at `path`, fully optimised for its one input
    /// of `shape`.
    pub(super) fn load(&self, path: &Path, shape: [usize; 4]) -> Result<OrtModel, VisionError> {
        let failed = |message: String| VisionError::Model {
            path: path.display().to_string(),
            message,
        };
        let mut builder = Session::builder(&self.loaded.environment)
            .map_err(|e| failed(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| failed(e.to_string()))?
            .with_execution_providers(self.dispatches())
            .map_err(|e| failed(e.to_string()))?;
        if self.threads > 0 {
            builder = builder
                .with_intra_threads(self.threads)
                .map_err(|e| failed(e.to_string()))?;
        }
        let session = builder
            .commit_from_file(path)
            .map_err(|e| failed(e.to_string()))?;
        Ok(OrtModel {
            session: Mutex::new(session),
            shape,
        })
    }

    fn dispatches(&self) -> Vec<ExecutionProviderDispatch> {
        self.providers
            .iter()
            .map(|provider| match provider {
                Provider::Cpu => ep::CPU::default().build().error_on_failure(),
                Provider::Cuda => ep::CUDA::default().build().error_on_failure(),
            })
            .collect()
    }
}

/// The loaded library, loading it first if no runtime has yet.
fn load(library: &Path) -> Result<Loaded, VisionError> {
    let mut loaded = LOADED
        .lock()
        .map_err(|_| VisionError::Runtime("ONNX Runtime's loader failed earlier".into()))?;
    if let Some(loaded) = loaded.as_ref() {
        if loaded.library != library {
            return Err(VisionError::Runtime(format!(
                "ONNX Runtime is already loaded from {} in this process, not {}",
                loaded.library.display(),
                library.display()
            )));
        }
        return Ok(loaded.clone());
    }
    let fresh = load_library(library)?;
    *loaded = Some(fresh.clone());
    Ok(fresh)
}

fn load_library(library: &Path) -> Result<Loaded, VisionError> {
    let names_a_file = library.components().count() > 1;
    if names_a_file && !library.is_file() {
        return Err(VisionError::Runtime(format!(
            "ONNX Runtime's library was not found at {} (scripts/onnxruntime install puts it there; KINOFLOW_ORT_LIBRARY names another)",
            library.display()
        )));
    }
    let environment = ort::init_from(library)
        .map_err(|e| {
            VisionError::Runtime(format!(
                "could not load ONNX Runtime from {}: {e}",
                library.display()
            ))
        })?
        .with_name("kinoflow")
        .build()
        .map_err(|e| VisionError::Runtime(format!("ONNX Runtime did not start: {e}")))?;
    Ok(Loaded {
        environment,
        library: library.to_path_buf(),
        version: release_of(ort::info()),
    })
}

/// The release in ONNX Runtime's build information
/// (`… git-branch=rel-1.32.0, …`).
fn release_of(build_info: &str) -> Option<String> {
    let start = build_info.find("git-branch=rel-")? + "git-branch=rel-".len();
    let rest = &build_info[start..];
    let end = rest.find([',', ' ']).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

fn check_available(provider: Provider, library: &Path) -> Result<(), VisionError> {
    let available = match provider {
        Provider::Cpu => return Ok(()),
        Provider::Cuda => ep::CUDA::is_available(),
    };
    match available {
        Ok(true) => Ok(()),
        Ok(false) => Err(VisionError::Runtime(format!(
            "the ONNX Runtime library at {} has no {provider} execution provider (the onnxruntime-gpu build has CUDA)",
            library.display()
        ))),
        Err(e) => Err(VisionError::Runtime(format!(
            "could not ask ONNX Runtime for its execution providers: {e}"
        ))),
    }
}

/// One model's session. ONNX Runtime sessions take one run at a time here
/// (`Session::run` borrows it mutably); each job loads its own models.
pub(super) struct OrtModel {
    session: Mutex<Session>,
    shape: [usize; 4],
}

impl InferenceBackend for OrtModel {
    fn run(&self, input: Vec<f32>) -> Result<Vec<Vec<f32>>, VisionError> {
        let failed = |e: ort::Error| VisionError::Inference(e.to_string());
        let tensor = Tensor::from_array((self.shape, input)).map_err(failed)?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| VisionError::Inference("the model failed in an earlier call".into()))?;
        let outputs = session.run(ort::inputs![tensor]).map_err(failed)?;
        outputs
            .values()
            .map(|value| {
                value
                    .try_extract_tensor::<f32>()
                    .map(|(_, data)| data.to_vec())
                    .map_err(failed)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::release_of;

    #[test]
    fn the_release_is_read_from_the_build_information() {
        let info = "ORT Build Info: git-branch=rel-1.32.0, git-commit-id=abc, build type=Release";
        assert_eq!(release_of(info).as_deref(), Some("1.32.0"));
        assert_eq!(release_of("ORT Build Info: git-branch=main"), None);
    }
}
