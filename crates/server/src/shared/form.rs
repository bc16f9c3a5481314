//! A multipart form that carries one file and a few short text fields, as
//! job submissions and the compatible APIs take them. The file streams into
//! an upload as it arrives; a request that is refused, or that did not need
//! the file in the end, leaves nothing stored.

use std::collections::HashMap;

use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use kinoflow_engine::store::{JobRecord, UploadRecord};

use super::upload::store_upload;
use crate::auth::AuthUser;
use crate::error::{code, ApiError};
use crate::state::AppState;
use crate::SMALL_BODY_LIMIT;

/// The name of the form field that carries the file.
const FILE_FIELD: &str = "file";

/// A form read whole, its file already stored.
pub struct FileForm {
    /// The upload the form's file became, if it had one.
    upload: Option<UploadRecord>,
    texts: HashMap<String, String>,
}

impl FileForm {
    /// Reads the request's form: its file into an upload, the fields named
    /// in `text_fields` as text; other fields are skipped. A second file is
    /// refused (422), and a refused form leaves nothing stored.
    pub async fn from_request(
        state: &AppState,
        user: &AuthUser,
        request: Request,
        text_fields: &[&str],
    ) -> Result<Self, ApiError> {
        let multipart = Multipart::from_request(request, &()).await.map_err(|e| {
            ApiError::bad_request(format!(
                "send a multipart form with one file and the fields {}: {}",
                text_fields.join(", "),
                e.body_text()
            ))
        })?;
        let mut form = Self {
            upload: None,
            texts: HashMap::new(),
        };
        match form.read_fields(state, user, multipart, text_fields).await {
            Ok(()) => Ok(form),
            Err(refusal) => {
                form.discard(state).await;
                Err(refusal)
            }
        }
    }

    async fn read_fields(
        &mut self,
        state: &AppState,
        user: &AuthUser,
        mut multipart: Multipart,
        text_fields: &[&str],
    ) -> Result<(), ApiError> {
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == FILE_FIELD {
                if self.upload.is_some() {
                    return Err(ApiError::unprocessable(
                        "the form has more than one field named file; send one file",
                    ));
                }
                self.upload = Some(store_upload(state, user, field).await?);
            } else if text_fields.contains(&name.as_str()) {
                let text = small_text(field).await?;
                self.texts.insert(name, text);
            }
        }
        Ok(())
    }

    /// The form's upload, if it had a file.
    pub fn upload(&self) -> Option<&UploadRecord> {
        self.upload.as_ref()
    }

    /// Whether the form's file is the job's input (a replayed submission
    /// answers an earlier job, whose input is the earlier upload).
    pub fn is_input_of(&self, job: &JobRecord) -> bool {
        self.upload
            .as_ref()
            .is_some_and(|upload| job.upload_id.as_deref() == Some(upload.id.as_str()))
    }

    /// The form's upload, or a 422 saying the file is missing.
    pub fn required_upload(&self) -> Result<&UploadRecord, ApiError> {
        self.upload()
            .ok_or_else(|| ApiError::unprocessable("the form has no field named file"))
    }

    /// The text of a field, if the form had it.
    pub fn take_text(&mut self, name: &str) -> Option<String> {
        self.texts.remove(name)
    }

    /// Deletes the stored file unless the request `used` it: a refused
    /// request, or one answered with an earlier job, stores nothing.
    pub async fn keep_if(&mut self, state: &AppState, used: bool) {
        if !used {
            self.discard(state).await;
        }
    }

    async fn discard(&mut self, state: &AppState) {
        let Some(upload) = self.upload.take() else {
            return;
        };
        // The request's own answer matters more than this cleanup; a failure
        // leaves the upload to its owner (and to retention) and is logged.
        if let Err(e) = state.engine.delete_upload(&upload.id).await {
            tracing::warn!(upload_id = %upload.id, error = %e, "could not delete the upload of a refused request");
        }
    }
}

/// A form field that is not the file: read whole, but never more than the
/// small-body limit.
async fn small_text(mut field: Field<'_>) -> Result<String, ApiError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if bytes.len() + chunk.len() > SMALL_BODY_LIMIT {
            return Err(ApiError::new(
                code::TOO_LARGE,
                format!("the form field {name} is larger than {SMALL_BODY_LIMIT} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request(format!("the form field {name} is not UTF-8 text")))
}
