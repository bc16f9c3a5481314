//! Objects as files under one directory. Writes go to a temporary file first
//! and are renamed into place, so a reader never sees half an object.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::{validate_key, BlobError, BlobMeta, BlobReader, BlobStore, ByteRange};

/// A blob store in a local directory.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Uses (and creates) `root`.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join(".tmp")).await?;
        Ok(Self { root })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }

    fn temp_path(&self) -> PathBuf {
        self.root
            .join(".tmp")
            .join(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// Copies `reader` into `file`, hashing as it goes, and stops past `limit`.
async fn copy_hashed(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    file: &mut tokio::fs::File,
    limit: Option<u64>,
) -> Result<BlobMeta, BlobError> {
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if let Some(limit) = limit.filter(|limit| size > *limit) {
            return Err(BlobError::TooLarge { limit });
        }
        hasher.update(&buffer[..n]);
        file.write_all(&buffer[..n]).await?;
    }
    file.flush().await?;
    file.sync_data().await?;
    Ok(BlobMeta {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
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
        let copied = copy_hashed(reader, &mut file, limit).await;
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
    async fn put_records_size_and_sha256_and_reads_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path()).await.unwrap();
        let meta = blobs
            .put("a/b.txt", &mut &b"hello world"[..], None)
            .await
            .unwrap();
        assert_eq!(meta.size, 11);
        assert_eq!(
            meta.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let mut part = String::new();
        blobs
            .get("a/b.txt", Some(6..11))
            .await
            .unwrap()
            .read_to_string(&mut part)
            .await
            .unwrap();
        assert_eq!(part, "world");
        assert_eq!(blobs.size("a/b.txt").await.unwrap(), Some(11));
        blobs.delete("a/b.txt").await.unwrap();
        assert_eq!(blobs.size("a/b.txt").await.unwrap(), None);
        blobs.put("p/1/x", &mut &b"1"[..], None).await.unwrap();
        blobs.put("p/2/y", &mut &b"2"[..], None).await.unwrap();
        blobs.put("q/z", &mut &b"3"[..], None).await.unwrap();
        blobs.delete_prefix("p").await.unwrap();
        assert_eq!(blobs.size("p/1/x").await.unwrap(), None);
        assert_eq!(blobs.size("p/2/y").await.unwrap(), None);
        assert_eq!(blobs.size("q/z").await.unwrap(), Some(1));
        blobs.delete_prefix("nothing-here").await.unwrap();
    }

    #[tokio::test]
    async fn a_write_over_the_limit_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path()).await.unwrap();
        let err = blobs
            .put("big", &mut &[0u8; 100][..], Some(10))
            .await
            .unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { limit: 10 }));
        assert_eq!(blobs.size("big").await.unwrap(), None);
        let leftovers = std::fs::read_dir(dir.path().join(".tmp")).unwrap().count();
        assert_eq!(leftovers, 0);
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path()).await.unwrap();
        for key in ["../x", "a/../../x", "/abs", "a//b", "a/./b", "sp ace"] {
            assert!(matches!(
                blobs.put(key, &mut &b"x"[..], None).await,
                Err(BlobError::InvalidKey(_))
            ));
        }
    }
}
