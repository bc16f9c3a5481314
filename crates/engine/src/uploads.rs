//! Uploads leave the way they came: their record and their stored file go
//! together. Presigned uploads keep what they receive under a prefix of their
//! own until they are completed. Jobs are listed with the uploads they were
//! given.

use std::collections::HashMap;

use kinoflow_store::{JobFilter, JobRecord, StoreError, UploadRecord, UploadRemoval};

use crate::engine::Engine;

/// Where the objects a presigned upload receives live until it is completed.
pub fn presigned_prefix(upload_id: &str) -> String {
    format!("presigned/{upload_id}")
}

impl Engine {
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
    /// given (`None` when it had none or the upload was deleted since). An
    /// upload that several of the jobs share is looked up once.
    pub async fn jobs_with_uploads(
        &self,
        filter: &JobFilter,
    ) -> Result<Vec<(JobRecord, Option<UploadRecord>)>, StoreError> {
        let jobs = self.store.list_jobs(filter).await?;
        let mut uploads: HashMap<String, Option<UploadRecord>> = HashMap::new();
        for id in jobs.iter().filter_map(|job| job.upload_id.as_deref()) {
            if !uploads.contains_key(id) {
                uploads.insert(id.to_owned(), self.store.get_upload(id).await?);
            }
        }
        Ok(jobs
            .into_iter()
            .map(|job| {
                let upload = job
                    .upload_id
                    .as_deref()
                    .and_then(|id| uploads.get(id).cloned().flatten());
                (job, upload)
            })
            .collect())
    }
}
