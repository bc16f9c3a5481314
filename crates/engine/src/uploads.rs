//! Uploads leave the way they came: their record and their stored file go
//! together. Presigned uploads keep what they receive under a prefix of their
//! own until they are completed.

use kinoflow_store::{StoreError, UploadRemoval};

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
}
