//! One entry of a ZIP kept in storage, read with range requests: the end of
//! the archive (its central directory), then the entry itself — never the
//! whole archive, which for the frames of a long video is large.

use std::io::{Read, Seek, SeekFrom};

use kinoflow_engine::store::ArtifactRecord;
use kinoflow_engine::Engine;
use tokio::io::AsyncReadExt;
use tokio::runtime::Handle;

use crate::error::ApiError;

/// The least read at once: the central directory and a frame take a few reads.
const READ_AHEAD: u64 = 256 * 1024;

/// The entry `name` of the ZIP `artifact`.
pub async fn read_entry(
    engine: &Engine,
    artifact: &ArtifactRecord,
    name: &str,
) -> Result<Vec<u8>, ApiError> {
    let archive = RangedArtifact {
        engine: engine.clone(),
        artifact: artifact.clone(),
        size: artifact.size.max(0) as u64,
        position: 0,
        window: (0, Vec::new()),
        runtime: Handle::current(),
    };
    let name = name.to_owned();
    // The zip crate reads synchronously: on a blocking thread, each range
    // read waits for the async storage there.
    tokio::task::spawn_blocking(move || {
        let mut zip = zip::ZipArchive::new(archive).map_err(ApiError::internal)?;
        let mut entry = zip
            .by_name(&name)
            .map_err(|_| ApiError::not_found("frame"))?;
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(ApiError::internal)?;
        Ok(bytes)
    })
    .await
    .map_err(ApiError::internal)?
}

/// An artifact as a `Read + Seek` file, read a window at a time.
struct RangedArtifact {
    engine: Engine,
    artifact: ArtifactRecord,
    size: u64,
    position: u64,
    /// The bytes last read, and where they start.
    window: (u64, Vec<u8>),
    runtime: Handle,
}

impl RangedArtifact {
    fn fill_window(&mut self, wanted: usize) -> std::io::Result<()> {
        let start = self.position;
        let end = (start + (wanted as u64).max(READ_AHEAD)).min(self.size);
        let (engine, artifact) = (&self.engine, &self.artifact);
        let bytes = self.runtime.block_on(async {
            let mut reader = engine
                .read_artifact(artifact, Some(start..end))
                .await
                .map_err(std::io::Error::other)?;
            let mut bytes = Vec::with_capacity((end - start) as usize);
            reader.read_to_end(&mut bytes).await?;
            Ok::<_, std::io::Error>(bytes)
        })?;
        self.window = (start, bytes);
        Ok(())
    }
}

impl Read for RangedArtifact {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.position >= self.size || buffer.is_empty() {
            return Ok(0);
        }
        let (start, bytes) = &self.window;
        let inside = self.position >= *start && self.position < start + bytes.len() as u64;
        if !inside {
            self.fill_window(buffer.len())?;
        }
        let (start, bytes) = &self.window;
        let offset = (self.position - start) as usize;
        let count = buffer.len().min(bytes.len() - offset);
        if count == 0 {
            return Ok(0);
        }
        buffer[..count].copy_from_slice(&bytes[offset..offset + count]);
        self.position += count as u64;
        Ok(count)
    }
}

impl Seek for RangedArtifact {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let position = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = position.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.position)
    }
}
