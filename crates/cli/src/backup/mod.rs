//! Backups of a deployment: its database and, when storage is a local
//! folder, its blobs, in one compressed archive with a manifest of every
//! entry's checksum ([`create`]); archives checked without restoring
//! ([`verify`]), restored onto the configured database and storage
//! ([`restore`]), listed and rotated in the backup folder ([`folder`]), and
//! written on a schedule by `serve` ([`schedule`]).
//!
//! Objects on S3 are not in an archive: the manifest says so, and the
//! bucket is backed up with its own tools.

mod archive;
mod create;
mod database;
pub mod folder;
mod manifest;
mod pg_tools;
mod restore;
pub mod schedule;
mod verify;

use std::path::PathBuf;

pub use create::BackupSource;
pub use database::DatabaseKind;
pub use manifest::Manifest;
pub use restore::{restore, Restored};
pub use verify::verify;

/// What a backup is taken of and restored onto: one deployment's database
/// and, when it is a local folder, its blob storage.
#[derive(Clone)]
pub struct Deployment {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The blob folder; `None` when the storage is S3.
    pub blob_root: Option<PathBuf>,
}

impl Deployment {
    /// The deployment on `database_url` and `storage_url`, as a node's
    /// configuration names them.
    pub fn new(database_url: &str, storage_url: &str) -> anyhow::Result<Self> {
        DatabaseKind::of_url(database_url)?;
        Ok(Self {
            database_url: database_url.to_owned(),
            blob_root: kinoflow_engine::blobs::local_root(storage_url),
        })
    }
}
