//! Object storage for kinoflow: uploaded inputs and job artifacts. Every write
//! is streamed and records the object's size and sha256. [`BlobStore`] is the
//! interface; [`LocalBlobs`] keeps objects in a directory, [`S3Blobs`] in an
//! S3-compatible bucket. [`open`] picks one from a storage URL.

mod copy;
mod local;
mod s3;

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncRead;

pub use copy::copy_measured;
pub use local::{LocalBlobs, TEMP_DIR as LOCAL_TEMP_DIR};
pub use s3::S3Blobs;

/// A stream of an object's bytes.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// What a write recorded about the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("object {0} not found")]
    NotFound(String),
    #[error("object is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    /// The stream being stored failed (a client went away mid-upload).
    #[error("the data being stored could not be read: {0}")]
    Source(std::io::Error),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage error: {0}")]
    Remote(String),
    #[error("invalid storage URL: {0}")]
    InvalidUrl(String),
}

/// What a presigned URL lets its holder do with one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// A byte range to read, `start..end` (end exclusive).
pub type ByteRange = std::ops::Range<u64>;

/// One interface over every place kinoflow keeps objects.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `reader` into the object `key`, replacing it. With a `limit`,
    /// stops and stores nothing once the stream goes past it.
    async fn put(
        &self,
        key: &str,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: Option<u64>,
    ) -> Result<BlobMeta, BlobError>;

    /// Stores a local file as the object `key`.
    async fn put_file(&self, key: &str, path: &Path) -> Result<BlobMeta, BlobError> {
        let mut file = tokio::fs::File::open(path).await?;
        self.put(key, &mut file, None).await
    }

    /// Reads the object, or the part of it in `range`.
    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<BlobReader, BlobError>;

    /// The object's size, or `None` when it does not exist.
    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError>;

    /// Removes the object; removing a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// Removes every object whose key starts with `prefix/`.
    async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError>;

    /// Moves the object `from` to `to`, replacing `to`.
    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError>;

    /// Removes what writes that never ended (the process was killed) left
    /// behind and nobody touched for `older_than`; returns how many. Local
    /// storage keeps such leftovers as temporary files. On S3 they are
    /// unfinished multipart uploads, which only the bucket can list: its
    /// lifecycle rule `AbortIncompleteMultipartUpload` removes them.
    async fn remove_abandoned_writes(&self, _older_than: Duration) -> Result<usize, BlobError> {
        Ok(0)
    }

    /// A path on this machine where the object can be read as a file (ffmpeg
    /// wants one). Local storage answers its own file; remote storage copies
    /// the object into `scratch`.
    async fn local_path(&self, key: &str, scratch: &Path) -> Result<PathBuf, BlobError>;

    /// Checks that the storage can be written to.
    async fn ping(&self) -> Result<(), BlobError>;

    /// A URL through which anyone holding it may read (GET) or write (PUT)
    /// the object until `expires_in` has passed, when the storage can sign
    /// one itself. Local storage has none: kinoflow then signs its own.
    async fn presigned_url(
        &self,
        _access: Access,
        _key: &str,
        _expires_in: Duration,
    ) -> Result<Option<String>, BlobError> {
        Ok(None)
    }
}

/// Opens the storage a URL names: `s3://BUCKET?endpoint=URL&region=R` (keys
/// from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`), or a directory, as a
/// path or `file://PATH`.
pub async fn open(url: &str) -> Result<Arc<dyn BlobStore>, BlobError> {
    match local_root(url) {
        Some(directory) => Ok(Arc::new(LocalBlobs::open(directory).await?)),
        None => Ok(Arc::new(S3Blobs::open_url(url)?)),
    }
}

/// The directory a storage URL names when the storage is local; `None` for
/// S3.
pub fn local_root(url: &str) -> Option<PathBuf> {
    if url.starts_with("s3:") {
        return None;
    }
    Some(PathBuf::from(url.strip_prefix("file://").unwrap_or(url)))
}

/// Keys are slash-separated names of letters, digits, `.`, `_` and `-`; no
/// component may be empty, `.` or `..`, so a key can never leave its root.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let component_ok = |c: &str| {
        !c.is_empty()
            && c != "."
            && c != ".."
            && c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'))
    };
    if key.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(BlobError::InvalidKey(key.to_owned()))
    }
}
