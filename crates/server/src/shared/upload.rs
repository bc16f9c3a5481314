//! Storing an upload: a multipart field streamed into storage under the
//! owner's size limit, hashed on the way, and recorded.

use axum::extract::multipart::Field;
use futures::TryStreamExt;
use kinoflow_engine::blobs::BlobError;
use kinoflow_engine::store::UploadRecord;
use kinoflow_engine::{NewUpload, UploadError};
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
    let new = NewUpload {
        owner_id: user.id.clone(),
        content_type: content_type_for(field.content_type(), &filename),
        filename,
    };
    let limit = UploadLimit::for_user(state, &user.id).await?;
    let mut reader = StreamReader::new(field.map_err(std::io::Error::other));
    match state
        .engine
        .put_upload(new, &mut reader, Some(limit.bytes))
        .await
    {
        Err(UploadError::Blob(BlobError::TooLarge { .. })) => Err(limit.refusal()),
        stored => Ok(stored?),
    }
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
