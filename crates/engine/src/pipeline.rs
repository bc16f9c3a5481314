//! The contract between the engine and an analysis: what a pipeline declares
//! and what it gets while it runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use kinoflow_media::MediaError;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::artifacts::ArtifactSink;
use crate::input_file::InputFile;
use crate::progress::ProgressReporter;

/// What a pipeline takes as input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// No file.
    None,
    /// A video file, checked with ffprobe at submission.
    Video,
    /// A CSV file.
    Csv,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::None => "none",
            InputKind::Video => "video",
            InputKind::Csv => "csv",
        }
    }
}

/// The error beneath a pipeline's failure, kept for the log and for callers
/// that look at what caused it.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why a run ended without success.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Worth trying again later (a resource was busy, a peer timed out, a
    /// child process was killed).
    #[error("{message}")]
    Transient {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// Trying again will not help; the message tells the user what to change.
    #[error("{message}")]
    Permanent {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// The run stopped because it was asked to.
    #[error("cancelled")]
    Cancelled,
}

impl PipelineError {
    /// A failure worth retrying, said in `message`.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            cause: None,
        }
    }

    /// A failure retrying cannot mend, said in `message` for the user.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
            cause: None,
        }
    }
}

/// Whether a media error is worth a retry is the media layer's to say
/// ([`MediaError::is_transient`]): a killed or stalled ffmpeg, a broken pipe
/// are; a file ffmpeg cannot read is not.
impl From<MediaError> for PipelineError {
    fn from(error: MediaError) -> Self {
        let message = error.to_string();
        let transient = error.is_transient();
        let cause = Some(Box::new(error) as Cause);
        if transient {
            Self::Transient { message, cause }
        } else {
            Self::Permanent { message, cause }
        }
    }
}

/// An upload that a job's parameters name besides its input (a scene's
/// image, the music of a render). The engine checks at submission that the
/// submitter owns it, keeps it while the job lives, and fetches it for the
/// run ([`JobContext::upload`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRef {
    /// Where the id is in the parameters, as a JSON pointer (`/scenes/0/image`).
    pub pointer: String,
    pub upload_id: String,
}

impl UploadRef {
    /// The field an error about it names: `params.scenes.0.image`, as the
    /// schema's errors name fields.
    pub fn field(&self) -> String {
        format!("params{}", self.pointer.replace('/', "."))
    }
}

/// What a successful run has to say beyond its artifacts.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Things the user should know (frames that could not be decoded, say).
    pub warnings: Vec<String>,
}

/// Everything a running job gets from the engine.
pub struct JobContext {
    pub job_id: String,
    /// Which start of the job this is: 1 for the first.
    pub attempt: i64,
    /// The input file on local disk, when the pipeline takes one.
    pub input: Option<PathBuf>,
    /// The uploads the parameters name ([`Pipeline::referenced_uploads`]) on
    /// local disk, by upload id.
    pub uploads: BTreeMap<String, PathBuf>,
    pub params: Value,
    pub progress: ProgressReporter,
    /// Cancelled when the job is cancelled, its lease is lost, or the worker stops.
    pub cancel: CancellationToken,
    pub artifacts: ArtifactSink,
    /// A private directory, removed when the run ends; made only for
    /// pipelines that say they use one ([`Pipeline::uses_scratch`]).
    pub scratch: PathBuf,
}

impl JobContext {
    /// The parameters as the pipeline's own type. They were validated against
    /// the schema at submission, so a failure here is the pipeline's bug.
    pub fn params<T: DeserializeOwned>(&self) -> Result<T, PipelineError> {
        serde_json::from_value(self.params.clone())
            .map_err(|e| PipelineError::permanent(format!("invalid parameters: {e}")))
    }

    /// The input file, for pipelines that declared one.
    pub fn input(&self) -> Result<&Path, PipelineError> {
        self.input
            .as_deref()
            .ok_or_else(|| PipelineError::permanent("this job has no input file".to_owned()))
    }

    /// An upload the parameters name, on local disk.
    pub fn upload(&self, upload_id: &str) -> Result<&Path, PipelineError> {
        self.uploads
            .get(upload_id)
            .map(PathBuf::as_path)
            .ok_or_else(|| {
                PipelineError::permanent(format!("upload {upload_id} was not fetched for this job"))
            })
    }
}

/// An analysis kinoflow can run.
#[async_trait]
pub trait Pipeline: Send + Sync + 'static {
    /// The name jobs ask for.
    fn name(&self) -> &'static str;
    /// One sentence for `GET /v1/pipelines`.
    fn description(&self) -> &'static str;
    /// What the pipeline takes as input.
    fn input(&self) -> InputKind;
    /// The JSON schema of the parameters object.
    fn params_schema(&self) -> Value;
    /// Rules the schema cannot say (one field excludes another, a range's
    /// ends in order), checked at submission after the schema passed.
    fn check_params(&self, _params: &Value) -> Vec<crate::params::FieldError> {
        Vec::new()
    }
    /// Checks the input file at submission, with the parameters that passed
    /// their checks (what the job would make of this file: how many frames,
    /// say); `Err` is a message for the user. What a check learns about the
    /// file goes through [`InputFile::fact`], so that other checks on the
    /// same upload reuse it.
    async fn check_input(&self, _input: &InputFile, _params: &Value) -> Result<(), String> {
        Ok(())
    }
    /// The uploads the parameters name besides the input, found in
    /// parameters that passed their checks.
    fn referenced_uploads(&self, _params: &Value) -> Vec<UploadRef> {
        Vec::new()
    }
    /// Checks one of them at submission, once the submitter is known to own
    /// it (is it an image, say); `Err` is a message for its field.
    async fn check_reference(
        &self,
        _reference: &UploadRef,
        _file: &InputFile,
    ) -> Result<(), String> {
        Ok(())
    }
    /// Whether a run needs a scratch directory (`ctx.scratch`) of its own;
    /// one that keeps everything in memory is spared making one.
    fn uses_scratch(&self) -> bool {
        true
    }
    /// Does the work. Must stop promptly when `ctx.cancel` fires.
    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError>;
}
