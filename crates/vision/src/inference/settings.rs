//! What the operator chooses: which runtime, where ONNX Runtime's library
//! is, its execution providers and threads.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Which runtime runs the models (`KINOFLOW_INFERENCE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    /// ONNX Runtime when its library loads, else tract.
    #[default]
    Auto,
    /// ONNX Runtime or nothing: a node refuses to start without it.
    Ort,
    /// Pure-Rust tract.
    Tract,
}

impl FromStr for Choice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "ort" | "onnxruntime" => Ok(Self::Ort),
            "tract" => Ok(Self::Tract),
            other => Err(format!(
                "unknown inference runtime {other:?}: use auto, ort or tract"
            )),
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Ort => "ort",
            Self::Tract => "tract",
        })
    }
}

/// An ONNX Runtime execution provider (`KINOFLOW_ORT_PROVIDERS`), tried in
/// the order given; the CPU always remains as the last resort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// ONNX Runtime's own CPU kernels.
    Cpu,
    /// NVIDIA GPUs, with the `onnxruntime-gpu` build of the library.
    Cuda,
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!(
                "unknown ONNX Runtime execution provider {other:?}: use cpu or cuda"
            )),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        })
    }
}

/// Parses a comma-separated list of providers, such as `cuda,cpu`.
pub fn parse_providers(list: &str) -> Result<Vec<Provider>, String> {
    list.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// Everything that decides how models run.
#[derive(Debug, Clone)]
pub struct InferenceSettings {
    /// Which runtime.
    pub choice: Choice,
    /// ONNX Runtime's shared library (`libonnxruntime.so`).
    pub ort_library: PathBuf,
    /// ONNX Runtime's execution providers, in order of preference.
    pub providers: Vec<Provider>,
    /// Threads each ONNX Runtime session computes one model call with; 0
    /// leaves it to ONNX Runtime (one per physical core).
    pub threads: usize,
}

impl Default for InferenceSettings {
    fn default() -> Self {
        Self {
            choice: Choice::Auto,
            ort_library: default_ort_library(),
            providers: vec![Provider::Cpu],
            threads: 0,
        }
    }
}

/// Where `scripts/onnxruntime install` puts the library:
/// `$XDG_DATA_HOME/kinoflow/lib/libonnxruntime.so`, by default under
/// `~/.local/share`; with neither variable set, the bare file name, which
/// the system's library search path resolves.
pub fn default_ort_library() -> PathBuf {
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".local/share"))
        });
    match data_home {
        Some(dir) => dir.join("kinoflow/lib/libonnxruntime.so"),
        None => PathBuf::from("libonnxruntime.so"),
    }
}
