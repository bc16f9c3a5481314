//! Objects in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, …), through
//! `object_store`. Writes are streamed: small objects go up in one PUT, large
//! ones as a multipart upload that is aborted when the write fails.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio_util::io::StreamReader;

use crate::copy::copy_hashed;
use crate::{validate_key, Access, BlobError, BlobMeta, BlobReader, BlobStore, ByteRange};

/// Parts of a multipart upload; objects smaller than this go up in one PUT.
const PART_SIZE: usize = 8 * 1024 * 1024;

/// A blob store in one S3 bucket, optionally under a key prefix.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    bucket: Arc<object_store::aws::AmazonS3>,
    prefix: Option<String>,
}

impl S3Blobs {
    /// Opens `s3://BUCKET[/PREFIX]?endpoint=URL&region=R`; `endpoint` is
    /// optional (AWS itself), `region` defaults to `us-east-1`; with a PREFIX
    /// every key lives under it, so several installations can share a
    /// bucket. The keys come from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, …).
    pub fn open_url(url: &str) -> Result<Self, BlobError> {
        let parsed = url::Url::parse(url).map_err(|e| BlobError::InvalidUrl(e.to_string()))?;
        let bucket = parsed
            .host_str()
            .filter(|bucket| !bucket.is_empty())
            .ok_or_else(|| BlobError::InvalidUrl("s3:// URLs name a bucket: s3://BUCKET".into()))?;
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region("us-east-1");
        for (name, value) in parsed.query_pairs() {
            builder = match name.as_ref() {
                "endpoint" => builder
                    .with_allow_http(value.starts_with("http://"))
                    .with_endpoint(value.as_ref()),
                "region" => builder.with_region(value.as_ref()),
                other => {
                    return Err(BlobError::InvalidUrl(format!(
                        "unknown S3 setting {other:?}; known: endpoint, region"
                    )))
                }
            };
        }
        let prefix = Some(parsed.path().trim_matches('/'))
            .filter(|prefix| !prefix.is_empty())
            .map(|prefix| {
                validate_key(prefix)
                    .map(|()| prefix.to_owned())
                    .map_err(|_| BlobError::InvalidUrl(format!("invalid key prefix {prefix:?}")))
            })
            .transpose()?;
        let bucket = builder.build().map_err(remote)?;
        Ok(Self {
            bucket: Arc::new(bucket),
            prefix,
        })
    }

    fn path_of(&self, key: &str) -> Result<ObjectPath, BlobError> {
        validate_key(key)?;
        let full = match &self.prefix {
            Some(prefix) => format!("{prefix}/{key}"),
            None => key.to_owned(),
        };
        ObjectPath::parse(full).map_err(|_| BlobError::InvalidKey(key.to_owned()))
    }
}

/// Storage failures other than a missing object.
fn remote(error: object_store::Error) -> BlobError {
    BlobError::Remote(error.to_string())
}

fn not_found_or_remote(key: &str, error: object_store::Error) -> BlobError {
    match error {
        object_store::Error::NotFound { .. } => BlobError::NotFound(key.to_owned()),
        other => remote(other),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(
        &self,
        key: &str,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: Option<u64>,
    ) -> Result<BlobMeta, BlobError> {
        let path = self.path_of(key)?;
        let mut writer = BufWriter::with_capacity(self.bucket.clone(), path, PART_SIZE);
        let copied = match copy_hashed(reader, &mut writer, limit).await {
            Ok(meta) => writer
                .shutdown()
                .await
                .map(|()| meta)
                .map_err(BlobError::from),
            Err(e) => Err(e),
        };
        if copied.is_err() {
            // Nothing half-written may stay behind, in the bucket or as parts.
            let _ = writer.abort().await;
        }
        copied
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<BlobReader, BlobError> {
        let path = self.path_of(key)?;
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let object = self
            .bucket
            .get_opts(&path, options)
            .await
            .map_err(|e| not_found_or_remote(key, e))?;
        let bytes = object.into_stream().map_err(std::io::Error::other);
        Ok(Box::pin(StreamReader::new(bytes)))
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match self.bucket.head(&self.path_of(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.bucket.delete(&self.path_of(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(remote(e)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError> {
        let prefix = self.path_of(prefix)?;
        let locations = self
            .bucket
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .boxed();
        self.bucket
            .delete_stream(locations)
            .try_for_each(|_| futures::future::ready(Ok(())))
            .await
            .map_err(remote)
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        self.bucket
            .rename(&self.path_of(from)?, &self.path_of(to)?)
            .await
            .map_err(|e| not_found_or_remote(from, e))
    }

    async fn local_path(&self, key: &str, scratch: &Path) -> Result<PathBuf, BlobError> {
        let name = key.rsplit('/').next().unwrap_or(key);
        tokio::fs::create_dir_all(scratch).await?;
        let target = scratch.join(name);
        let mut object = self.get(key, None).await?;
        let mut file = tokio::fs::File::create(&target).await?;
        tokio::io::copy(&mut object, &mut file).await?;
        file.flush().await?;
        Ok(target)
    }

    async fn ping(&self) -> Result<(), BlobError> {
        let probe = self.path_of(&format!("health/{}", uuid::Uuid::new_v4().simple()))?;
        self.bucket
            .put(&probe, PutPayload::from_static(b"ping"))
            .await
            .map_err(remote)?;
        self.bucket.delete(&probe).await.map_err(remote)
    }

    async fn presigned_url(
        &self,
        access: Access,
        key: &str,
        expires_in: Duration,
    ) -> Result<Option<String>, BlobError> {
        let method = match access {
            Access::Read => http::Method::GET,
            Access::Write => http::Method::PUT,
        };
        let url = self
            .bucket
            .signed_url(method, &self.path_of(key)?, expires_in)
            .await
            .map_err(remote)?;
        Ok(Some(url.to_string()))
    }
}
