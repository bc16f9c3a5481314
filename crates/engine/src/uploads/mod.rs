//! Uploads come and leave with their record and their stored file
//! together. Jobs are listed with the uploads they were given.

mod parts;
mod presigned;

use std::collections::HashMap;

use kinoflow_blobs::{BlobError, BlobReader, ByteRange};
use kinoflow_store::{now_ms, JobFilter, JobRecord, StoreError, UploadRecord, UploadRemoval};
use tokio::io::AsyncRead;

use crate::engine::Engine;

pub use parts::{PartPlan, MAX_PARTS, MIN_PART_SIZE};
pub use presigned::{presigned_prefix, Announced, Announcement, DeclaredSize, PresignedError};

/// What a client says about a file it sends.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub owner_id: String,
    pub filename: String,
    pub content_type: String,
}

/// Why a file could not become an upload.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the uploaded file is empty")]
    Empty,
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Engine {
    /// Streams a file into storage, at most `limit` bytes, and records it
    /// as an upload. Nothing is kept when it is refused or fails.
    pub async fn put_upload(
        &self,
        new: NewUpload,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: Option<u64>,
    ) -> Result<UploadRecord, UploadError> {
        let id = uuid::Uuid::now_v7().to_string();
        let blob_key = format!("uploads/{id}");
        let meta = self.blobs.put(&blob_key, reader, limit).await?;
        if meta.size == 0 {
            self.blobs.delete(&blob_key).await?;
            return Err(UploadError::Empty);
        }
        let upload = UploadRecord {
            id,
            owner_id: new.owner_id,
            filename: new.filename,
            content_type: new.content_type,
            size: meta.size as i64,
            sha256: meta.sha256,
            blob_key,
            created_at: now_ms(),
        };
        if let Err(e) = self.store.insert_upload(&upload).await {
            // Without its record nothing would ever find the file again.
            let _ = self.blobs.delete(&upload.blob_key).await;
            return Err(e.into());
        }
        Ok(upload)
    }

    /// An upload, if it exists.
    pub async fn upload(&self, upload_id: &str) -> Result<Option<UploadRecord>, StoreError> {
        self.store.get_upload(upload_id).await
    }

    /// Reads an upload's file, whole or one byte range of it.
    pub async fn read_upload(
        &self,
        upload: &UploadRecord,
        range: Option<ByteRange>,
    ) -> Result<BlobReader, BlobError> {
        self.blobs.get(&upload.blob_key, range).await
    }

    /// Bytes a user keeps: their uploads and their jobs' artifacts.
    pub async fn storage_used(&self, owner_id: &str) -> Result<i64, StoreError> {
        self.store.storage_used(owner_id).await
    }

    /// Deletes an upload's record and then its file, unless a job that has
    /// not ended uses it. Ended jobs that used it no longer name it.
    pub async fn delete_upload(&self, upload_id: &str) -> Result<UploadRemoval, StoreError> {
        let removal = self.store.delete_upload(upload_id).await?;
        if let UploadRemoval::Removed(upload) = &removal {
            // The record is gone, so nothing will read the file again; one
            // that could not be deleted now is only logged.
            if let Err(e) = self.blobs.delete(&upload.blob_key).await {
                tracing::warn!(upload_id, error = %e, "could not delete the upload's file");
            }
        }
        Ok(removal)
    }

    /// The jobs `filter` selects, newest first, each with the upload it was
    /// given (`None` when it had none or the upload was deleted since): two
    /// queries however many jobs there are.
    pub async fn jobs_with_uploads(
        &self,
        filter: &JobFilter,
    ) -> Result<Vec<(JobRecord, Option<UploadRecord>)>, StoreError> {
        let jobs = self.store.list_jobs(filter).await?;
        let mut ids: Vec<String> = jobs
            .iter()
            .filter_map(|job| job.upload_id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let uploads: HashMap<String, UploadRecord> = self
            .store
            .get_uploads(&ids)
            .await?
            .into_iter()
            .map(|upload| (upload.id.clone(), upload))
            .collect();
        Ok(jobs
            .into_iter()
            .map(|job| {
                let upload = job
                    .upload_id
                    .as_ref()
                    .and_then(|id| uploads.get(id).cloned());
                (job, upload)
            })
            .collect())
    }
}
