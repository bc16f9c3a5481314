//! The engine's front door: submitting, cancelling and deleting jobs. The
//! server and the CLI go through here; workers live in `worker`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use kinoflow_blobs::{BlobError, BlobStore};
use kinoflow_store::{JobNotices, JobRecord, NewJob, Store, StoreError};
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::artifacts::ArtifactSink;
use crate::config::EngineConfig;
use crate::group_commit::GroupCommit;
use crate::input_file::InputFile;
use crate::metrics::EngineMetrics;
use crate::params::{whole_numbers_as_integers, FieldError};
use crate::pipeline::{InputKind, Pipeline, UploadRef};
use crate::references;
use crate::registry::PipelineRegistry;
use crate::stop::{JobStop, StopReason};

/// A job as a user asks for it.
#[derive(Debug, Clone)]
pub struct Submission {
    pub owner_id: String,
    pub pipeline: String,
    pub upload_id: Option<String>,
    pub params: Value,
    pub idempotency_key: Option<String>,
    pub notices: JobNotices,
}

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("unknown pipeline {name:?}; known pipelines: {}", known.join(", "))]
    UnknownPipeline { name: String, known: Vec<String> },
    #[error("invalid parameters")]
    InvalidParams(Vec<FieldError>),
    #[error("pipeline {0} needs an input file: give upload_id")]
    InputRequired(String),
    #[error("upload {0} not found")]
    UploadNotFound(String),
    #[error("{0}")]
    InputRejected(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// One of several jobs submitted together was refused (none was queued).
    #[error("job {index}: {source}")]
    Item {
        index: usize,
        source: Box<SubmitError>,
    },
}

/// A submission whose fields passed their checks.
struct Checked {
    submission: Submission,
    pipeline: Arc<dyn Pipeline>,
    /// The parameters, `{}` when none were given.
    params: Value,
    /// The uploads the parameters name besides the input.
    references: Vec<UploadRef>,
}

impl Checked {
    /// The upload the pipeline reads, when it takes one.
    fn input(&self) -> Option<&str> {
        let takes_input = self.pipeline.input() != InputKind::None;
        self.submission.upload_id.as_deref().filter(|_| takes_input)
    }

    fn into_new_job(self, config: &EngineConfig) -> NewJob {
        NewJob {
            // An upload named to a pipeline that takes none was not checked:
            // the job does not keep it.
            upload_id: self.input().map(str::to_owned),
            owner_id: self.submission.owner_id,
            pipeline: self.submission.pipeline,
            references: references::distinct_ids(&self.references),
            params: self.params,
            max_attempts: config.max_attempts,
            idempotency_key: self.submission.idempotency_key,
            notices: self.submission.notices,
        }
    }
}

/// The shared core every front end and worker uses.
#[derive(Clone)]
pub struct Engine {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) blobs: Arc<dyn BlobStore>,
    pub pipelines: PipelineRegistry,
    pub config: EngineConfig,
    pub metrics: EngineMetrics,
    /// Wakes idle workers in this process when a job is queued.
    pub(crate) wake: Arc<Notify>,
    /// The jobs this process runs now, so a cancel here reaches them at once.
    pub(crate) running: Arc<Mutex<HashMap<String, JobStop>>>,
    /// Where submissions wait to be committed together.
    submissions: Arc<GroupCommit>,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        pipelines: PipelineRegistry,
        config: EngineConfig,
    ) -> Self {
        Self {
            submissions: Arc::new(GroupCommit::new(store.clone())),
            store,
            blobs,
            pipelines,
            config,
            metrics: EngineMetrics::new(),
            wake: Arc::new(Notify::new()),
            running: Arc::default(),
        }
    }

    /// Validates and queues a job. Returns the job and whether it is new
    /// (false when the idempotency key named an earlier one).
    pub async fn submit(&self, submission: Submission) -> Result<(JobRecord, bool), SubmitError> {
        let checked = self.check_fields(submission)?;
        self.check_inputs(std::slice::from_ref(&checked))
            .await
            .map_err(|(_, error)| error)?;
        let mut queued = self
            .submissions
            .queue(vec![checked.into_new_job(&self.config)])
            .await?;
        let (job, created) = queued
            .pop()
            .ok_or_else(|| StoreError::Corrupt("a queued job was not answered".into()))?;
        if created {
            self.wake.notify_one();
        }
        Ok((job, created))
    }

    /// Validates and queues several jobs in one transaction: all of them, or
    /// none when one is refused ([`SubmitError::Item`] says which). Every
    /// job's fields are checked before any input file is looked at, and each
    /// input is fetched once however many jobs use it.
    pub async fn submit_many(
        &self,
        submissions: Vec<Submission>,
    ) -> Result<Vec<JobRecord>, SubmitError> {
        let item = |index: usize, source: SubmitError| SubmitError::Item {
            index,
            source: Box::new(source),
        };
        let checked = submissions
            .into_iter()
            .enumerate()
            .map(|(index, submission)| self.check_fields(submission).map_err(|e| item(index, e)))
            .collect::<Result<Vec<_>, _>>()?;
        self.check_inputs(&checked)
            .await
            .map_err(|(index, error)| item(index, error))?;
        let jobs = checked
            .into_iter()
            .map(|job| job.into_new_job(&self.config))
            .collect();
        let records: Vec<JobRecord> = self
            .submissions
            .queue(jobs)
            .await?
            .into_iter()
            .map(|(record, _)| record)
            .collect();
        // Every idle worker has work now; the permit covers one that is
        // between jobs and not yet waiting.
        self.wake.notify_waiters();
        self.wake.notify_one();
        Ok(records)
    }

    /// The checks that need no input file: the pipeline exists, the
    /// parameters pass its schema and rules, an input is named if it takes one.
    fn check_fields(&self, submission: Submission) -> Result<Checked, SubmitError> {
        let pipeline = self.pipelines.get(&submission.pipeline).ok_or_else(|| {
            SubmitError::UnknownPipeline {
                name: submission.pipeline.clone(),
                known: self.pipelines.names(),
            }
        })?;
        let params = match &submission.params {
            Value::Null => Value::Object(Default::default()),
            params => whole_numbers_as_integers(params.clone()),
        };
        let mut field_errors = self
            .pipelines
            .params_checker(pipeline.name())
            .map(|checker| checker.check(&params))
            .unwrap_or_default();
        if field_errors.is_empty() {
            field_errors = pipeline.check_params(&params);
        }
        if !field_errors.is_empty() {
            return Err(SubmitError::InvalidParams(field_errors));
        }
        if pipeline.input() != InputKind::None && submission.upload_id.is_none() {
            return Err(SubmitError::InputRequired(pipeline.name().to_owned()));
        }
        let references = pipeline.referenced_uploads(&params);
        Ok(Checked {
            pipeline,
            params,
            references,
            submission,
        })
    }

    /// Checks each job's input file with its pipeline: every upload is found
    /// first, then fetched once, and each pipeline and parameters are checked
    /// on it once. The error names the first job it concerns.
    async fn check_inputs(&self, jobs: &[Checked]) -> Result<(), (usize, SubmitError)> {
        let mut by_upload: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, job) in jobs.iter().enumerate() {
            if let Some(upload_id) = job.input() {
                by_upload.entry(upload_id).or_default().push(index);
            }
        }
        let mut uploads = Vec::with_capacity(by_upload.len());
        for (upload_id, indices) in &by_upload {
            let first = indices[0];
            let owner = &jobs[first].submission.owner_id;
            let upload = self
                .store
                .get_upload(upload_id)
                .await
                .map_err(|e| (first, e.into()))?
                .filter(|upload| &upload.owner_id == owner)
                .ok_or_else(|| (first, SubmitError::UploadNotFound((*upload_id).to_owned())))?;
            if let Some(&other) = indices
                .iter()
                .find(|&&i| &jobs[i].submission.owner_id != owner)
            {
                return Err((other, SubmitError::UploadNotFound((*upload_id).to_owned())));
            }
            uploads.push((upload, indices));
        }
        for (index, job) in jobs.iter().enumerate() {
            self.check_references(job)
                .await
                .map_err(|error| (index, error))?;
        }
        for (upload, indices) in uploads {
            let scratch = self
                .config
                .scratch_dir
                .join(format!("check-{}", Uuid::new_v4().simple()));
            let checked = self
                .check_upload(&upload.blob_key, &scratch, jobs, indices)
                .await;
            let _ = tokio::fs::remove_dir_all(&scratch).await;
            checked?;
        }
        Ok(())
    }

    /// Checks the uploads a job's parameters name (see [`references::check`]).
    async fn check_references(&self, job: &Checked) -> Result<(), SubmitError> {
        if job.references.is_empty() {
            return Ok(());
        }
        let scratch = self
            .config
            .scratch_dir
            .join(format!("check-{}", Uuid::new_v4().simple()));
        let checked = references::check(
            self.store.as_ref(),
            self.blobs.as_ref(),
            job.pipeline.as_ref(),
            &job.submission.owner_id,
            &job.references,
            &scratch,
        )
        .await;
        let _ = tokio::fs::remove_dir_all(&scratch).await;
        checked
    }

    /// Fetches one upload into `scratch` and checks it for the jobs at
    /// `indices`; the checks share what they learn about the file.
    async fn check_upload(
        &self,
        blob_key: &str,
        scratch: &std::path::Path,
        jobs: &[Checked],
        indices: &[usize],
    ) -> Result<(), (usize, SubmitError)> {
        let input = InputFile::new(
            self.blobs
                .local_path(blob_key, scratch)
                .await
                .map_err(|e| (indices[0], e.into()))?,
        );
        let mut seen = HashSet::new();
        for &index in indices {
            let job = &jobs[index];
            if seen.insert((job.pipeline.name(), job.params.to_string())) {
                job.pipeline
                    .check_input(&input, &job.params)
                    .await
                    .map_err(|e| (index, SubmitError::InputRejected(e)))?;
            }
        }
        Ok(())
    }

    /// Cancels a waiting job at once; a running one stops at its next heartbeat.
    pub async fn cancel(&self, job_id: &str) -> Result<Option<JobRecord>, StoreError> {
        let job = self.store.request_cancel(job_id).await?;
        if let Some(stop) = self.running_jobs().get(job_id) {
            stop.stop(StopReason::CancelRequested);
        }
        Ok(job)
    }

    pub(crate) fn running_jobs(&self) -> std::sync::MutexGuard<'_, HashMap<String, JobStop>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Deletes a finished job with its artifacts and history.
    pub async fn delete(&self, job_id: &str) -> Result<(), StoreError> {
        self.remove_artifacts(job_id).await?;
        self.store.delete_job(job_id).await
    }

    /// Removes a job's artifacts: their records, and every blob under the
    /// job's prefix, so that what a killed attempt stored before it could
    /// record it goes too.
    pub(crate) async fn remove_artifacts(&self, job_id: &str) -> Result<(), StoreError> {
        self.store.take_artifacts(job_id).await?;
        let prefix = ArtifactSink::job_prefix(job_id);
        if let Err(e) = self.blobs.delete_prefix(&prefix).await {
            tracing::warn!(job_id, error = %e, "could not delete the job's artifact blobs");
        }
        Ok(())
    }
}
