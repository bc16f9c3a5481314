//! The ZIP of frames, written entry by entry as frames arrive, on a thread of
//! its own so that file I/O never stalls the async workers.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// How many images may wait for the writer: bounds memory whatever the video.
const QUEUE: usize = 8;

/// Feeds entries to the writer thread.
pub struct ZipSink {
    entries: mpsc::Sender<(String, Vec<u8>)>,
    writer: JoinHandle<std::io::Result<()>>,
}

impl ZipSink {
    /// Starts writing a ZIP at `path`. Entries are stored, not recompressed:
    /// JPEG and PNG are compressed already.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let file = File::create(path)?;
        let (entries, mut queue) = mpsc::channel::<(String, Vec<u8>)>(QUEUE);
        let writer = tokio::task::spawn_blocking(move || {
            let mut zip = ZipWriter::new(file);
            let options = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Stored)
                .large_file(false);
            while let Some((name, bytes)) = queue.blocking_recv() {
                zip.start_file(name, options)?;
                zip.write_all(&bytes)?;
            }
            zip.finish()?.sync_all()
        });
        Ok(Self { entries, writer })
    }

    /// Queues an entry; waits when the writer is behind.
    pub async fn add(&self, name: String, bytes: Vec<u8>) -> std::io::Result<()> {
        self.entries
            .send((name, bytes))
            .await
            .map_err(|_| std::io::Error::other("the ZIP writer stopped"))
    }

    /// Writes the central directory and closes the file.
    pub async fn finish(self) -> std::io::Result<()> {
        drop(self.entries);
        self.writer.await.map_err(std::io::Error::other)?
    }
}
