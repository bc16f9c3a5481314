//! Every default of kinoflow's configuration, in one place: what a node does
//! when neither the file, nor a `KINOFLOW_*` variable, nor a flag says
//! otherwise. The README's configuration table documents these values.

use std::path::{Path, PathBuf};

pub const BIND: &str = "127.0.0.1:8080";
pub const DATA_DIR: &str = "./data";
/// Read when `--config` and `KINOFLOW_CONFIG` name no file, if it exists.
pub const CONFIG_FILE: &str = "kinoflow.toml";

/// One job worker per core.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A SQLite database in the data directory.
pub fn database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("kinoflow.db").display())
}

/// A folder of blobs in the data directory.
pub fn storage_url(data_dir: &Path) -> String {
    data_dir.join("blobs").display().to_string()
}

/// Backups in the data directory (better: a folder on another disk).
pub fn backup_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// The models folder of the source tree this binary was built from.
pub fn models_dir() -> PathBuf {
    kinoflow_pipelines::bundled_models_dir()
}

/// ONNX Runtime when its library loads, else tract.
pub const INFERENCE: &str = "auto";
/// The CPU: a GPU provider needs the GPU build of the library.
pub const ORT_PROVIDERS: &str = "cpu";
/// ONNX Runtime's own choice: one thread per physical core.
pub const ORT_THREADS: usize = 0;

pub const TOKEN_TTL_S: u64 = 3600;
/// 2 GiB.
pub const MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
pub const PRESIGN_TTL_S: u64 = 3600;
pub const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 10;
pub const LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: u32 = 60;
pub const REGISTRATIONS_PER_ADDRESS_PER_MINUTE: u32 = 20;
pub const ALLOW_ANONYMOUS: bool = false;
pub const SOCKETIO_PUBLIC_PROGRESS: bool = false;

pub const LEASE_TTL_S: f64 = 30.0;
pub const COMPLETION_WINDOW_MS: u64 = 2;
pub const MAX_ATTEMPTS: i64 = 3;
pub const RETRY_BASE_S: f64 = 1.0;
pub const SHUTDOWN_GRACE_S: f64 = 30.0;
/// Six hours: far more than any analysis of a video within the upload limit needs.
pub const MAX_RUN_TIME_S: u64 = 6 * 3600;

/// 8192 × 8192: 8K video and then some.
pub const MAX_VIDEO_PIXELS: u64 = 8192 * 8192;
/// Hours of video at one frame a second.
pub const MAX_FRAMES_PER_JOB: u64 = 100_000;

pub const MAX_CONNECTIONS: usize = 1024;
pub const HEADER_READ_TIMEOUT_S: f64 = 10.0;
pub const IDLE_TIMEOUT_S: f64 = 60.0;
pub const MIN_BODY_BYTES_PER_S: u64 = 1024;

pub const WEBHOOK_ALLOW_PRIVATE: bool = false;
pub const NOTIFY_RETRY_BASE_S: f64 = 5.0;
/// A day.
pub const MAIL_LINK_TTL_S: u64 = 24 * 3600;

pub const SWEEP_INTERVAL_S: f64 = 3600.0;

pub const BACKUP_KEEP: usize = 4;

/// The `sleep` pipeline (for tests and benchmarks) is not offered.
pub const TEST_PIPELINES: bool = false;

/// The models asked for when the operator names none: OpenAI's.
pub const AI_CHAT_MODEL: &str = "gpt-4o-mini";
pub const AI_IMAGE_MODEL: &str = "gpt-image-1";
pub const AI_TIMEOUT_S: f64 = 120.0;
