//! Presigned uploads sent in parts: a large file goes as numbered parts,
//! each to a URL of its own (the storage's own presigned URL on S3,
//! kinoflow's signed URL otherwise), so a dropped connection costs one part,
//! and a client resumes by asking which parts arrived. Completion joins the
//! parts in order into the upload's object, measuring it as it is written.

use std::time::Duration;

use kinoflow_blobs::{Access, BlobError, BlobMeta};
use kinoflow_store::PresignedUpload;
use tokio::io::{AsyncRead, AsyncWriteExt};

use super::presigned::{presigned_prefix, PresignedError};
use crate::engine::Engine;

/// The smallest part (every part but the last is this size exactly).
pub const MIN_PART_SIZE: u64 = 64 * 1024;
/// The most parts one upload may have.
pub const MAX_PARTS: u64 = 10_000;
/// How much of a part the joining holds in memory on its way.
const JOIN_BUFFER: usize = 1024 * 1024;

/// How an announced file is cut: parts of `part_size` bytes, the last one
/// shorter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    size: u64,
    part_size: u64,
}

impl PartPlan {
    /// The plan for a file of `size` bytes in parts of `part_size`.
    pub fn new(size: u64, part_size: u64) -> Result<Self, PresignedError> {
        if part_size < MIN_PART_SIZE {
            return Err(PresignedError::BadParts(format!(
                "part_size must be at least {MIN_PART_SIZE} bytes"
            )));
        }
        let plan = Self { size, part_size };
        if plan.count() > MAX_PARTS {
            return Err(PresignedError::BadParts(format!(
                "a file of {size} bytes in parts of {part_size} has more than {MAX_PARTS} parts; use larger parts"
            )));
        }
        Ok(plan)
    }

    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// The plan of an announced upload sent in parts of `part_size`.
    pub fn of(upload: &PresignedUpload, part_size: u64) -> Result<Self, PresignedError> {
        Self::new(upload.declared_size as u64, part_size)
    }

    /// How many parts there are (at least one).
    pub fn count(&self) -> u64 {
        self.size.div_ceil(self.part_size).max(1)
    }

    /// The size part `number` (from 1) has.
    pub fn part_len(&self, number: u64) -> u64 {
        let start = (number - 1) * self.part_size;
        self.part_size.min(self.size.saturating_sub(start))
    }

    fn check_number(&self, number: u64) -> Result<(), PresignedError> {
        if (1..=self.count()).contains(&number) {
            Ok(())
        } else {
            Err(PresignedError::BadParts(format!(
                "part {number} does not exist: the parts are 1 to {}",
                self.count()
            )))
        }
    }
}

/// Where part `number` of upload `id` is kept until completion.
fn part_key(id: &str, number: u64) -> String {
    format!("{}/part-{number:05}", presigned_prefix(id))
}

impl Engine {
    /// The storage's own URL for part `number`, when the storage signs URLs;
    /// otherwise the part is sent to kinoflow ([`Engine::receive_part`]).
    pub async fn part_url(
        &self,
        id: &str,
        number: u64,
        ttl: Duration,
    ) -> Result<Option<String>, PresignedError> {
        Ok(self
            .blobs
            .presigned_url(Access::Write, &part_key(id, number), ttl)
            .await?)
    }

    /// Takes part `number` of upload `id`, sent in parts of `part_size` to
    /// kinoflow's own URL; a part sent again replaces the one before.
    pub async fn receive_part(
        &self,
        id: &str,
        part_size: u64,
        number: u64,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<(), PresignedError> {
        let plan = PartPlan::of(&self.open_presigned(id).await?, part_size)?;
        plan.check_number(number)?;
        let key = part_key(id, number);
        let expected = plan.part_len(number);
        let meta = match self.blobs.put(&key, reader, Some(expected)).await {
            Ok(meta) => meta,
            Err(BlobError::TooLarge { .. }) => return Err(wrong_part(number, expected, None)),
            Err(e) => return Err(e.into()),
        };
        if meta.size != expected {
            let _ = self.blobs.delete(&key).await;
            return Err(wrong_part(number, expected, Some(meta.size)));
        }
        Ok(())
    }

    /// The parts of `pending` that have arrived whole: their numbers.
    pub async fn received_parts(
        &self,
        pending: &PresignedUpload,
        plan: PartPlan,
    ) -> Result<Vec<u64>, PresignedError> {
        let mut received = Vec::new();
        for number in 1..=plan.count() {
            let size = self.blobs.size(&part_key(&pending.id, number)).await?;
            if size == Some(plan.part_len(number)) {
                received.push(number);
            }
        }
        Ok(received)
    }

    /// Joins the parts of `pending`, in order, into the object `blob_key`;
    /// refused while a part is missing or of the wrong size.
    pub(super) async fn join_parts(
        &self,
        pending: &PresignedUpload,
        plan: PartPlan,
        blob_key: &str,
    ) -> Result<BlobMeta, PresignedError> {
        let received = self.received_parts(pending, plan).await?;
        let missing: Vec<String> = (1..=plan.count())
            .filter(|number| !received.contains(number))
            .map(|number| number.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(PresignedError::BadParts(format!(
                "parts {} have not arrived whole",
                missing.join(", ")
            )));
        }
        // One task reads the parts in order into a pipe that the store reads
        // from, so a file of any size passes through a fixed buffer.
        let (mut writer, mut reader) = tokio::io::duplex(JOIN_BUFFER);
        let blobs = self.blobs.clone();
        let keys: Vec<String> = (1..=plan.count())
            .map(|number| part_key(&pending.id, number))
            .collect();
        let feeder = tokio::spawn(async move {
            for key in keys {
                let mut part = blobs.get(&key, None).await?;
                tokio::io::copy(&mut part, &mut writer).await?;
            }
            writer.shutdown().await.map_err(BlobError::Io)
        });
        let stored = self
            .blobs
            .put(blob_key, &mut reader, Some(pending.declared_size as u64))
            .await;
        drop(reader);
        let fed = feeder
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e)))?;
        let failure = match (stored, fed) {
            (Ok(meta), Ok(())) => return Ok(meta),
            // The store gave up first: the feeder only found the pipe closed.
            (Err(stored), Err(BlobError::Io(e))) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                stored
            }
            // A part could not be read: the store saw the file end early.
            (_, Err(fed)) => fed,
            (Err(stored), Ok(())) => stored,
        };
        let _ = self.blobs.delete(blob_key).await;
        Err(failure.into())
    }
}

fn wrong_part(number: u64, expected: u64, arrived: Option<u64>) -> PresignedError {
    let arrived = arrived.map_or_else(|| "more".to_owned(), |n| n.to_string());
    PresignedError::BadParts(format!(
        "part {number} must be {expected} bytes; {arrived} arrived"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_cut_into_equal_parts_and_a_shorter_last_one() {
        let plan = PartPlan::new(200_000, MIN_PART_SIZE).unwrap();
        assert_eq!(plan.count(), 4);
        assert_eq!(plan.part_len(1), MIN_PART_SIZE);
        assert_eq!(plan.part_len(4), 200_000 - 3 * MIN_PART_SIZE);
        assert!(plan.check_number(5).is_err() && plan.check_number(0).is_err());
        assert!(PartPlan::new(10, 1000).is_err());
        assert!(PartPlan::new(MIN_PART_SIZE * (MAX_PARTS + 1), MIN_PART_SIZE).is_err());
    }
}
