//! Objects as files under one directory. Writes go to a temporary file first
//! and are renamed into place, so a reader never sees half an object.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

use crate::copy::copy_hashed;
use crate::{validate_key, BlobError, BlobMeta, BlobReader, BlobStore, ByteRange};

/// Where writes in progress live, under the root.
pub const TEMP_DIR: &str = ".tmp";

/// A blob store in a local directory.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Uses (and creates) `root`.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join(TEMP_DIR)).await?;
        Ok(Self { root })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    fn temp_path(&self) -> PathBuf {
        self.root
            .join(TEMP_DIR)
            .join(uuid::Uuid::new_v4().simple().to_string())
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put(
        &self,
        key: &str,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: Option<u64>,
    ) -> Result<BlobMeta, BlobError> {
        let path = self.path_of(key)?;
        let temp = self.temp_path();
        let mut file = tokio::fs::File::create(&temp).await?;
        let copied = match copy_hashed(reader, &mut file, limit).await {
            Ok(meta) => file
                .sync_data()
                .await
                .map(|()| meta)
                .map_err(BlobError::from),
            Err(e) => Err(e),
        };
        drop(file);
        let meta = match copied {
            Ok(meta) => meta,
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(e);
            }
        };
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(&temp, &path).await?;
        Ok(meta)
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<BlobReader, BlobError> {
        let path = self.path_of(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(key.to_owned()))
            }
            Err(e) => return Err(e.into()),
        };
        match range {
            None => Ok(Box::pin(file)),
            Some(range) => {
                file.seek(SeekFrom::Start(range.start)).await?;
                Ok(Box::pin(file.take(range.end.saturating_sub(range.start))))
            }
        }
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match tokio::fs::metadata(self.path_of(key)?).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path_of(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_dir_all(self.path_of(prefix)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        let (source, target) = (self.path_of(from)?, self.path_of(to)?);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        match tokio::fs::rename(&source, &target).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(BlobError::NotFound(from.to_owned()))
            }
            done => Ok(done?),
        }
    }

    async fn remove_abandoned_writes(&self, older_than: Duration) -> Result<usize, BlobError> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(self.root.join(TEMP_DIR)).await?;
        while let Some(entry) = entries.next_entry().await? {
            let modified = entry.metadata().await?.modified()?;
            let untouched = modified.elapsed().unwrap_or_default();
            // A write in progress touches its file with every chunk it receives.
            if untouched > older_than && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn local_path(&self, key: &str, _scratch: &Path) -> Result<PathBuf, BlobError> {
        let path = self.path_of(key)?;
        if tokio::fs::try_exists(&path).await? {
            Ok(path)
        } else {
            Err(BlobError::NotFound(key.to_owned()))
        }
    }

    async fn ping(&self) -> Result<(), BlobError> {
        let probe = self.temp_path();
        tokio::fs::write(&probe, b"ping").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path()).await.unwrap();
        let err = blobs
            .put("big", &mut &[0u8; 100][..], Some(10))
            .await
            .unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { limit: 10 }));
        let leftovers = std::fs::read_dir(dir.path().join(TEMP_DIR))
            .unwrap()
            .count();
        assert_eq!(leftovers, 0);
    }
}
