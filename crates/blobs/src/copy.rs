//! The one streamed copy every backend writes through: it hashes as it goes
//! and stops past a size limit.

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{BlobError, BlobMeta, BlobStore};

/// Copies `reader` into `writer`, counting and hashing, and flushes it. A
/// failing reader gives [`BlobError::Source`], a failing writer
/// [`BlobError::Io`], so callers can tell a broken upload from broken storage.
pub(crate) async fn copy_hashed(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    writer: &mut (dyn AsyncWrite + Send + Unpin),
    limit: Option<u64>,
) -> Result<BlobMeta, BlobError> {
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut buffer).await.map_err(BlobError::Source)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if let Some(limit) = limit.filter(|limit| size > *limit) {
            return Err(BlobError::TooLarge { limit });
        }
        hasher.update(&buffer[..n]);
        writer.write_all(&buffer[..n]).await?;
    }
    writer.flush().await?;
    Ok(BlobMeta {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Copies the object `from` to `to` through this process and returns the
/// size and sha256 of what it wrote, or `None` when there is no `from`. The
/// record is of the copy itself, so a later write to `from` (a client that
/// puts straight into storage again) cannot change what was measured.
pub async fn copy_measured(
    blobs: &dyn BlobStore,
    from: &str,
    to: &str,
    limit: Option<u64>,
) -> Result<Option<BlobMeta>, BlobError> {
    let mut reader = match blobs.get(from, None).await {
        Ok(reader) => reader,
        Err(BlobError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    blobs.put(to, &mut reader, limit).await.map(Some)
}
