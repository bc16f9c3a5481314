//! The uploads that a job's parameters name besides its input (a render's
//! scene images and music): checked at submission — the submitter's own,
//! each fetched once and looked at by its pipeline — and fetched for a run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use kinoflow_blobs::BlobStore;
use kinoflow_store::{Store, UploadRecord};

use crate::engine::SubmitError;
use crate::input_file::InputFile;
use crate::params::FieldError;
use crate::pipeline::{Pipeline, PipelineError, UploadRef};

/// The distinct upload ids of `references`, in order.
pub(crate) fn distinct_ids(references: &[UploadRef]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for reference in references {
        if !ids.contains(&reference.upload_id) {
            ids.push(reference.upload_id.clone());
        }
    }
    ids
}

/// Checks `references` of a job that `owner_id` submits: each names one of
/// their uploads, which the pipeline accepts. Every field at fault is named.
pub(crate) async fn check(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    pipeline: &dyn Pipeline,
    owner_id: &str,
    references: &[UploadRef],
    scratch: &Path,
) -> Result<(), SubmitError> {
    if references.is_empty() {
        return Ok(());
    }
    let uploads: HashMap<String, UploadRecord> = store
        .get_uploads(&distinct_ids(references))
        .await?
        .into_iter()
        .filter(|upload| upload.owner_id == owner_id)
        .map(|upload| (upload.id.clone(), upload))
        .collect();
    let missing: Vec<FieldError> = references
        .iter()
        .filter(|reference| !uploads.contains_key(&reference.upload_id))
        .map(|reference| {
            FieldError::new(
                reference.field(),
                format!("upload {} not found", reference.upload_id),
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(SubmitError::InvalidParams(missing));
    }
    let mut files: HashMap<&str, InputFile> = HashMap::new();
    let mut refused = Vec::new();
    for reference in references {
        let upload = &uploads[&reference.upload_id];
        if !files.contains_key(upload.id.as_str()) {
            let path = fetch(blobs, upload, scratch).await?;
            files.insert(&upload.id, InputFile::new(path));
        }
        let file = &files[upload.id.as_str()];
        if let Err(message) = pipeline.check_reference(reference, file).await {
            refused.push(FieldError::new(reference.field(), message));
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(SubmitError::InvalidParams(refused))
    }
}

/// The uploads `references` name, on local disk under `scratch`, by id.
pub(crate) async fn fetch_all(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    references: &[UploadRef],
    scratch: &Path,
) -> Result<BTreeMap<String, PathBuf>, PipelineError> {
    let ids = distinct_ids(references);
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let found = store
        .get_uploads(&ids)
        .await
        .map_err(|e| PipelineError::transient(e.to_string()))?;
    let mut paths = BTreeMap::new();
    for reference in references {
        if paths.contains_key(&reference.upload_id) {
            continue;
        }
        let upload = found
            .iter()
            .find(|upload| upload.id == reference.upload_id)
            .ok_or_else(|| {
                PipelineError::permanent(format!(
                    "the upload {} named by {} is gone",
                    reference.upload_id,
                    reference.field()
                ))
            })?;
        let path = fetch(blobs, upload, scratch).await.map_err(|e| {
            PipelineError::transient(format!("could not read {}: {e}", reference.field()))
        })?;
        paths.insert(upload.id.clone(), path);
    }
    Ok(paths)
}

/// One upload as a local file; remote storage copies it into a directory
/// of its own under `scratch`, so that two uploads never share a name.
async fn fetch(
    blobs: &dyn BlobStore,
    upload: &UploadRecord,
    scratch: &Path,
) -> Result<PathBuf, kinoflow_blobs::BlobError> {
    let directory = scratch.join(format!("upload-{}", upload.id));
    tokio::fs::create_dir_all(&directory).await?;
    blobs.local_path(&upload.blob_key, &directory).await
}
