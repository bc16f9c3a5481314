//! Presigned uploads: a client announces a file, sends it to a URL of its
//! own, then completes the upload, which checks that what arrived is what
//! was announced. On S3 the URL is the storage's own presigned PUT; with
//! local storage the front end signs a URL to itself and hands the body to
//! [`Engine::receive_presigned`].
//!
//! What arrives stays apart (under [`presigned_prefix`]) until completion
//! moves exactly the bytes it measured to the upload's own key, so a PUT
//! that ends later cannot change an upload: through kinoflow every PUT
//! writes an object of its own (and one after completion is refused); a
//! PUT straight to S3 is copied and measured in one pass. The sweeper
//! removes what stays behind once the URL has expired.

use std::time::Duration;

use kinoflow_blobs::{copy_measured, Access, BlobError, BlobMeta};
use kinoflow_store::{now_ms, PresignedUpload, StoreError, UploadRecord};
use tokio::io::AsyncRead;

use super::parts::PartPlan;
use super::NewUpload;
use crate::engine::Engine;

/// Where the objects a presigned upload receives live until it is completed.
pub fn presigned_prefix(upload_id: &str) -> String {
    format!("presigned/{upload_id}")
}

/// A file a client is about to send, and for how long it may.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub upload: NewUpload,
    pub size: DeclaredSize,
    pub ttl: Duration,
}

/// What a client says of the size of the file it will send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclaredSize {
    /// Exactly this many bytes; any other size is refused at completion.
    Exact(u64),
    /// Any size from 1 byte up to this many (for clients that do not say
    /// the size before they send the file).
    AtMost(u64),
}

impl DeclaredSize {
    /// The most bytes the upload may take.
    fn limit(self) -> u64 {
        match self {
            Self::Exact(bytes) | Self::AtMost(bytes) => bytes,
        }
    }
}

/// An announced upload: its id, and the storage's own URL to send it to
/// when the storage signs URLs.
#[derive(Debug, Clone)]
pub struct Announced {
    pub id: String,
    pub storage_url: Option<String>,
    /// Seconds since the Unix epoch.
    pub expires_at: i64,
}

/// Why a presigned upload could not take a file or be completed.
#[derive(Debug, thiserror::Error)]
pub enum PresignedError {
    #[error("upload not found")]
    NotFound,
    #[error("this upload is already complete; send another file as a new upload")]
    AlreadyComplete,
    #[error("nothing has been sent to the upload URL yet")]
    NothingArrived,
    #[error("more than the {declared} bytes announced arrived")]
    TooMuch { declared: i64 },
    #[error("the file that arrived is empty")]
    Empty,
    #[error("{arrived} bytes arrived, but {declared} were announced")]
    WrongSize { arrived: u64, declared: i64 },
    #[error("the file's SHA-256 is {actual}, not {expected}")]
    WrongSha256 { actual: String, expected: String },
    #[error("another file arrived while the upload was being completed; complete it again")]
    Superseded,
    /// Parts asked for or sent that do not fit the announced file.
    #[error("{0}")]
    BadParts(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Engine {
    /// Records an announced upload and asks the storage for a URL to it.
    pub async fn announce_upload(
        &self,
        announcement: Announcement,
    ) -> Result<Announced, PresignedError> {
        let id = uuid::Uuid::now_v7().to_string();
        // Where the storage's own URL lets the client write.
        let blob_key = format!("{}/direct", presigned_prefix(&id));
        let expires_at = now_ms() / 1000 + announcement.ttl.as_secs() as i64;
        let storage_url = self
            .blobs
            .presigned_url(Access::Write, &blob_key, announcement.ttl)
            .await?;
        self.store
            .insert_presigned_upload(&PresignedUpload {
                blob_key,
                id: id.clone(),
                owner_id: announcement.upload.owner_id,
                filename: announcement.upload.filename,
                content_type: announcement.upload.content_type,
                declared_size: announcement.size.limit() as i64,
                size_is_limit: matches!(announcement.size, DeclaredSize::AtMost(_)),
                expires_at,
                received_key: None,
                received_size: None,
                received_sha256: None,
                created_at: now_ms(),
                completed_at: None,
            })
            .await?;
        Ok(Announced {
            id,
            storage_url,
            expires_at,
        })
    }

    /// An announced upload, complete or not.
    pub async fn presigned_upload(&self, id: &str) -> Result<Option<PresignedUpload>, StoreError> {
        self.store.get_presigned_upload(id).await
    }

    /// Upload `id` while it still takes files (not completed).
    pub(super) async fn open_presigned(&self, id: &str) -> Result<PresignedUpload, PresignedError> {
        let pending = self
            .store
            .get_presigned_upload(id)
            .await?
            .ok_or(PresignedError::NotFound)?;
        if pending.completed_at.is_some() {
            return Err(PresignedError::AlreadyComplete);
        }
        Ok(pending)
    }

    /// Takes a file sent to kinoflow's own URL for upload `id`: stored as an
    /// object of its own, it replaces what an earlier PUT sent.
    pub async fn receive_presigned(
        &self,
        id: &str,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<(), PresignedError> {
        let pending = self.open_presigned(id).await?;
        let key = format!("{}/{}", presigned_prefix(id), uuid::Uuid::new_v4().simple());
        let meta = self
            .blobs
            .put(&key, reader, Some(pending.declared_size as u64))
            .await?;
        let recorded = self
            .store
            .record_presigned_content(id, &key, meta.size as i64, &meta.sha256)
            .await?;
        // What is not recorded (or no longer is) goes; should a deletion fail,
        // the sweeper removes the object once the URL has expired.
        let superseded = if recorded {
            pending.received_key
        } else {
            Some(key)
        };
        if let Some(superseded) = superseded {
            let _ = self.blobs.delete(&superseded).await;
        }
        if recorded {
            Ok(())
        } else {
            Err(PresignedError::AlreadyComplete)
        }
    }

    /// Makes what arrived for `pending` an upload, when it is what was
    /// announced (and has `expected_sha256`, when given). Completing twice
    /// answers the same upload.
    /// Sent in parts (`parts`), the parts are joined in order first.
    pub async fn complete_presigned(
        &self,
        pending: PresignedUpload,
        parts: Option<PartPlan>,
        expected_sha256: Option<&str>,
    ) -> Result<UploadRecord, PresignedError> {
        let id = pending.id.clone();
        let blob_key = format!("uploads/{}", uuid::Uuid::now_v7());
        let meta = match parts {
            Some(plan) => {
                let meta = self.join_parts(&pending, plan, &blob_key).await?;
                if let Err(refusal) = check_arrived(&pending, &meta, expected_sha256) {
                    let _ = self.blobs.delete(&blob_key).await;
                    return Err(refusal);
                }
                meta
            }
            None => {
                self.commit_content(&pending, &blob_key, expected_sha256)
                    .await?
            }
        };
        let upload = UploadRecord {
            id: pending.id,
            owner_id: pending.owner_id,
            filename: pending.filename,
            content_type: pending.content_type,
            size: meta.size as i64,
            sha256: meta.sha256,
            blob_key,
            created_at: now_ms(),
        };
        if !self.store.complete_presigned_upload(&upload).await? {
            // Another request completed it meanwhile: its upload stands.
            let _ = self.blobs.delete(&upload.blob_key).await;
            return self
                .store
                .get_upload(&id)
                .await?
                .ok_or(PresignedError::NotFound);
        }
        // Other PUTs' objects; what a deletion misses the sweeper removes later.
        let _ = self.blobs.delete_prefix(&presigned_prefix(&id)).await;
        Ok(upload)
    }

    /// Puts what arrived for `pending` at `blob_key`, when it is what was
    /// announced, and returns its size and sha256.
    async fn commit_content(
        &self,
        pending: &PresignedUpload,
        blob_key: &str,
        expected_sha256: Option<&str>,
    ) -> Result<BlobMeta, PresignedError> {
        if let (Some(key), Some(size), Some(sha256)) = (
            &pending.received_key,
            pending.received_size,
            &pending.received_sha256,
        ) {
            // Sent through kinoflow: that PUT's object is never written again,
            // so what was recorded when it arrived is what moves.
            let meta = BlobMeta {
                size: size as u64,
                sha256: sha256.clone(),
            };
            check_arrived(pending, &meta, expected_sha256)?;
            return match self.blobs.rename(key, blob_key).await {
                Ok(()) => Ok(meta),
                Err(BlobError::NotFound(_)) => Err(PresignedError::Superseded),
                Err(e) => Err(e.into()),
            };
        }
        // Sent straight to storage, where the client may write again: the copy
        // is measured as it is made, and the copy is what is kept.
        let limit = Some(pending.declared_size as u64);
        let meta =
            match copy_measured(self.blobs.as_ref(), &pending.blob_key, blob_key, limit).await {
                Ok(Some(meta)) => meta,
                Ok(None) => return Err(PresignedError::NothingArrived),
                Err(BlobError::TooLarge { .. }) => {
                    return Err(PresignedError::TooMuch {
                        declared: pending.declared_size,
                    })
                }
                Err(e) => return Err(e.into()),
            };
        if let Err(refusal) = check_arrived(pending, &meta, expected_sha256) {
            let _ = self.blobs.delete(blob_key).await;
            return Err(refusal);
        }
        Ok(meta)
    }
}

/// Refuses a file that is empty, whose size is not the one announced, or
/// whose sha256 is not the one the client expects.
fn check_arrived(
    pending: &PresignedUpload,
    meta: &BlobMeta,
    expected_sha256: Option<&str>,
) -> Result<(), PresignedError> {
    if meta.size == 0 {
        return Err(PresignedError::Empty);
    }
    if !pending.size_is_limit && meta.size as i64 != pending.declared_size {
        return Err(PresignedError::WrongSize {
            arrived: meta.size,
            declared: pending.declared_size,
        });
    }
    match expected_sha256 {
        Some(expected) if !expected.eq_ignore_ascii_case(&meta.sha256) => {
            Err(PresignedError::WrongSha256 {
                actual: meta.sha256.clone(),
                expected: expected.to_owned(),
            })
        }
        _ => Ok(()),
    }
}
