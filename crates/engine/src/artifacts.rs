//! Where a running job puts its results, and where they are read back.
//! Every write carries the job's lease, so a worker that lost its lease
//! cannot overwrite a newer attempt's results.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::Engine;
use crate::pipeline::PipelineError;
use crate::stop::{JobStop, StopReason};
use kinoflow_blobs::{Access, BlobError, BlobReader, BlobStore, ByteRange};
use kinoflow_store::{now_ms, ArtifactRecord, LeaseToken, Store, StoreError};

/// Artifact names are single file names: letters, digits, `.`, `_`, `-`, not
/// starting with a dot. They never become paths unchecked.
pub fn validate_artifact_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A job's artifact writer, fenced by its lease.
#[derive(Clone)]
pub struct ArtifactSink {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    job_id: String,
    lease: LeaseToken,
    stop: JobStop,
}

impl ArtifactSink {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        job_id: String,
        lease: LeaseToken,
        stop: JobStop,
    ) -> Self {
        Self {
            store,
            blobs,
            job_id,
            lease,
            stop,
        }
    }

    /// Stores the file at `path` as the artifact `name`.
    pub async fn put_file(&self, name: &str, path: &Path) -> Result<(), PipelineError> {
        let key = self.blob_key(name)?;
        let meta = self.blobs.put_file(&key, path).await.map_err(|e| {
            PipelineError::transient(format!("could not store artifact {name}: {e}"))
        })?;
        self.record(name, key, meta).await
    }

    /// Stores `bytes` as the artifact `name`.
    pub async fn put_bytes(&self, name: &str, bytes: &[u8]) -> Result<(), PipelineError> {
        let key = self.blob_key(name)?;
        let meta = self
            .blobs
            .put(&key, &mut &bytes[..], None)
            .await
            .map_err(|e| {
                PipelineError::transient(format!("could not store artifact {name}: {e}"))
            })?;
        self.record(name, key, meta).await
    }

    /// Where all of a job's artifact blobs live.
    pub(crate) fn job_prefix(job_id: &str) -> String {
        format!("jobs/{job_id}")
    }

    /// Each attempt writes under its own lease, so a stale worker's blobs never
    /// replace the current attempt's.
    fn blob_key(&self, name: &str) -> Result<String, PipelineError> {
        if !validate_artifact_name(name) {
            return Err(PipelineError::permanent(format!(
                "invalid artifact name {name:?}"
            )));
        }
        Ok(format!(
            "{}/{}/{}",
            Self::job_prefix(&self.job_id),
            self.lease.0,
            name
        ))
    }

    async fn record(
        &self,
        name: &str,
        key: String,
        meta: kinoflow_blobs::BlobMeta,
    ) -> Result<(), PipelineError> {
        let record = ArtifactRecord {
            job_id: self.job_id.clone(),
            name: name.to_owned(),
            blob_key: key.clone(),
            content_type: content_type_of(name),
            size: meta.size as i64,
            sha256: meta.sha256,
            created_at: now_ms(),
        };
        let accepted = self
            .store
            .put_artifact(&record, &self.lease)
            .await
            .map_err(|e| {
                PipelineError::transient(format!("could not record artifact {name}: {e}"))
            })?;
        if accepted {
            return Ok(());
        }
        tracing::warn!(job_id = %self.job_id, artifact = name, "artifact refused: the lease was taken over");
        let _ = self.blobs.delete(&key).await;
        self.stop.stop(StopReason::LeaseLost);
        Err(PipelineError::Cancelled)
    }
}

/// The MIME type served for an artifact, from its name.
fn content_type_of(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

impl Engine {
    /// A job's artifacts, by name.
    pub async fn artifacts(&self, job_id: &str) -> Result<Vec<ArtifactRecord>, StoreError> {
        self.store.list_artifacts(job_id).await
    }

    /// One of a job's artifacts, if it has one of that name.
    pub async fn artifact(
        &self,
        job_id: &str,
        name: &str,
    ) -> Result<Option<ArtifactRecord>, StoreError> {
        self.store.get_artifact(job_id, name).await
    }

    /// Reads an artifact, or the part of it in `range`.
    pub async fn read_artifact(
        &self,
        artifact: &ArtifactRecord,
        range: Option<ByteRange>,
    ) -> Result<BlobReader, BlobError> {
        self.blobs.get(&artifact.blob_key, range).await
    }

    /// A URL the storage signs for reading an artifact for `ttl`, when the
    /// storage signs URLs.
    pub async fn artifact_url(
        &self,
        artifact: &ArtifactRecord,
        ttl: Duration,
    ) -> Result<Option<String>, BlobError> {
        self.blobs
            .presigned_url(Access::Read, &artifact.blob_key, ttl)
            .await
    }
}
