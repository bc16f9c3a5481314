//! The engine's front door: submitting, cancelling and deleting jobs. The
//! server and the CLI go through here; workers live in `worker`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kinoflow_blobs::{BlobError, BlobStore};
use kinoflow_store::{JobNotices, JobRecord, NewJob, Store, StoreError};
use serde_json::Value;
use tokio::sync::Notify;

use crate::artifacts::ArtifactSink;
use crate::config::EngineConfig;
use crate::metrics::EngineMetrics;
use crate::params::FieldError;
use crate::pipeline::InputKind;
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

/// The shared core every front end and worker uses.
#[derive(Clone)]
pub struct Engine {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub pipelines: PipelineRegistry,
    pub config: EngineConfig,
    pub metrics: EngineMetrics,
    /// Wakes idle workers in this process when a job is queued.
    pub(crate) wake: Arc<Notify>,
    /// The jobs this process runs now, so a cancel here reaches them at once.
    pub(crate) running: Arc<Mutex<HashMap<String, JobStop>>>,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        pipelines: PipelineRegistry,
        config: EngineConfig,
    ) -> Self {
        Self {
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
        let job = self.prepare(submission).await?;
        let (job, created) = self.store.create_job(job).await?;
        if created {
            self.wake.notify_one();
        }
        Ok((job, created))
    }

    /// Validates and queues several jobs in one transaction: all of them, or
    /// none when one is refused ([`SubmitError::Item`] says which).
    pub async fn submit_many(
        &self,
        submissions: Vec<Submission>,
    ) -> Result<Vec<JobRecord>, SubmitError> {
        let mut jobs = Vec::with_capacity(submissions.len());
        for (index, submission) in submissions.into_iter().enumerate() {
            let job = self
                .prepare(submission)
                .await
                .map_err(|source| SubmitError::Item {
                    index,
                    source: Box::new(source),
                })?;
            jobs.push(job);
        }
        let records = self.store.create_jobs(jobs).await?;
        // Every idle worker has work now; the permit covers one that is
        // between jobs and not yet waiting.
        self.wake.notify_waiters();
        self.wake.notify_one();
        Ok(records)
    }

    /// Checks a submission (pipeline, parameters, input) and turns it into
    /// the job to insert.
    async fn prepare(&self, submission: Submission) -> Result<NewJob, SubmitError> {
        let pipeline = self.pipelines.get(&submission.pipeline).ok_or_else(|| {
            SubmitError::UnknownPipeline {
                name: submission.pipeline.clone(),
                known: self.pipelines.names(),
            }
        })?;
        let params = match submission.params {
            Value::Null => Value::Object(Default::default()),
            params => params,
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
        if pipeline.input() != InputKind::None {
            let upload_id = submission
                .upload_id
                .as_deref()
                .ok_or_else(|| SubmitError::InputRequired(pipeline.name().to_owned()))?;
            let upload = self
                .store
                .get_upload(upload_id)
                .await?
                .filter(|upload| upload.owner_id == submission.owner_id)
                .ok_or_else(|| SubmitError::UploadNotFound(upload_id.to_owned()))?;
            let scratch = self.config.scratch_dir.join(format!("check-{}", upload.id));
            let path = self.blobs.local_path(&upload.blob_key, &scratch).await?;
            let checked = pipeline.check_input(&path).await;
            let _ = tokio::fs::remove_dir_all(&scratch).await;
            checked.map_err(SubmitError::InputRejected)?;
        }
        Ok(NewJob {
            owner_id: submission.owner_id,
            pipeline: submission.pipeline,
            upload_id: submission.upload_id,
            params,
            max_attempts: self.config.max_attempts,
            idempotency_key: submission.idempotency_key,
            notices: submission.notices,
        })
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
