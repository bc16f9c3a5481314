//! Writing a backup: the database dumped into scratch space in the backup
//! folder, then the archive written under a hidden temporary name, synced
//! and renamed into place. A backup that fails leaves nothing behind, and
//! nothing that looks like a backup.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use kinoflow_engine::blobs::LOCAL_TEMP_DIR;

use super::archive::ArchiveWriter;
use super::database::Database;
use super::folder::{self, ArchiveFile, PARTIAL_PREFIX};
use super::manifest::{BlobsRecord, Manifest, FORMAT};
use super::Deployment;

/// A deployment with its database open, ready to be backed up.
pub struct BackupSource {
    database: Database,
    blob_root: Option<PathBuf>,
}

impl BackupSource {
    /// Opens the deployment's database, as a node opens it.
    pub async fn open(deployment: &Deployment) -> anyhow::Result<Self> {
        Ok(Self {
            database: Database::open(&deployment.database_url).await?,
            blob_root: deployment.blob_root.clone(),
        })
    }

    /// Writes a backup into `dir`, then deletes all but the newest `keep`
    /// archives there; returns the new archive and those deleted.
    pub async fn back_up_and_rotate(
        &self,
        dir: &Path,
        keep: usize,
    ) -> anyhow::Result<(ArchiveFile, Vec<PathBuf>)> {
        let archive = self.back_up(dir).await?;
        let deleted = folder::rotate(dir, keep)?;
        Ok((archive, deleted))
    }

    /// Writes a backup into `dir`; returns the archive.
    pub async fn back_up(&self, dir: &Path) -> anyhow::Result<ArchiveFile> {
        let unwritable = || format!("could not write to the backup folder {}", dir.display());
        std::fs::create_dir_all(dir).with_context(unwritable)?;
        let scratch = tempfile::Builder::new()
            .prefix(PARTIAL_PREFIX)
            .suffix(".scratch")
            .tempdir_in(dir)
            .with_context(unwritable)?;
        let created_at = Utc::now();
        let dump = scratch.path().join("database");
        let schema = self.database.schema_versions().await?;
        self.database.dump(&dump).await?;
        let manifest = Manifest {
            format: FORMAT,
            kinoflow_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_at,
            database: self.database.kind(),
            schema,
            blobs: match self.blob_root {
                Some(_) => BlobsRecord::local(),
                None => BlobsRecord::s3(),
            },
            entries: Vec::new(),
        };
        let target = dir.join(folder::archive_name(created_at));
        let blob_root = self.blob_root.clone();
        let (dir, written) = (dir.to_owned(), target.clone());
        tokio::task::spawn_blocking(move || {
            write_archive(&dir, &written, &dump, blob_root.as_deref(), manifest)
        })
        .await??;
        let size = std::fs::metadata(&target)?.len();
        Ok(ArchiveFile {
            path: target,
            created_at,
            size,
        })
    }

    /// Closes the database's connections.
    pub async fn close(self) {
        self.database.close().await;
    }
}

/// Writes the archive under a temporary name in `dir`, then renames it to
/// `target` once it is complete and on disk.
fn write_archive(
    dir: &Path,
    target: &Path,
    dump: &Path,
    blob_root: Option<&Path>,
    manifest: Manifest,
) -> anyhow::Result<()> {
    let unwritable = || format!("could not write to the backup folder {}", dir.display());
    let partial = tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .suffix(".partial")
        .tempfile_in(dir)
        .with_context(unwritable)?;
    let mut archive = ArchiveWriter::new(partial.reopen().with_context(unwritable)?);
    archive.add_file(manifest.database.dump_entry(), dump)?;
    if let Some(root) = blob_root {
        archive.add_blobs(root, LOCAL_TEMP_DIR)?;
    }
    let file = archive.finish(manifest).with_context(unwritable)?;
    file.sync_all().with_context(unwritable)?;
    partial
        .persist_noclobber(target)
        .map_err(|e| e.error)
        .with_context(|| format!("could not name the backup {}", target.display()))?;
    sync_folder(dir).with_context(unwritable)
}

/// Makes a rename in `dir` durable.
pub fn sync_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
