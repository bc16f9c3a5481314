//! Storing an upload: a multipart field streamed into storage under the
//! owner's size limit, hashed on the way, and recorded.

use axum::extract::multipart::Field;
use futures::TryStreamExt;
use kinoflow_engine::blobs::BlobError;
use kinoflow_engine::store::{now_ms, UploadRecord};
use tokio_util::io::StreamReader;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::quota::UploadLimit;
use crate::state::AppState;

/// Streams one multipart field into storage and records it as an upload.
pub async fn store_upload(
    state: &AppState,
    user: &AuthUser,
    field: Field<'_>,
) -> Result<UploadRecord, ApiError> {
    let filename = field
        .file_name()
        .map(sanitise_filename)
        .unwrap_or_else(|| "upload".to_owned());
    let content_type = content_type_for(field.content_type(), &filename);
    let id = uuid::Uuid::now_v7().to_string();
    let blob_key = format!("uploads/{id}");
    let limit = UploadLimit::for_user(state, &user.id).await?;
    let mut reader = StreamReader::new(field.map_err(std::io::Error::other));
    let meta = match state
        .engine
        .blobs
        .put(&blob_key, &mut reader, Some(limit.bytes))
        .await
    {
        Err(BlobError::TooLarge { .. }) => return Err(limit.refusal()),
        stored => stored?,
    };
    if meta.size == 0 {
        state.engine.blobs.delete(&blob_key).await?;
        return Err(ApiError::unprocessable("the uploaded file is empty"));
    }
    let upload = UploadRecord {
        id,
        owner_id: user.id.clone(),
        filename,
        content_type,
        size: meta.size as i64,
        sha256: meta.sha256,
        blob_key,
        created_at: now_ms(),
    };
    if let Err(e) = state.engine.store.insert_upload(&upload).await {
        // Without its record nothing would ever find the file again.
        let _ = state.engine.blobs.delete(&upload.blob_key).await;
        return Err(e.into());
    }
    Ok(upload)
}

/// The client's content type when it says something, else a guess from the name.
pub fn content_type_for(declared: Option<&str>, filename: &str) -> String {
    declared
        .filter(|t| !t.is_empty() && *t != "application/octet-stream")
        .map(str::to_owned)
        .unwrap_or_else(|| {
            mime_guess::from_path(filename)
                .first_or_octet_stream()
                .essence_str()
                .to_owned()
        })
}

/// Keeps the last path component of a client's file name, within bounds.
pub fn sanitise_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if cleaned.is_empty() {
        "upload".to_owned()
    } else {
        cleaned
    }
}
