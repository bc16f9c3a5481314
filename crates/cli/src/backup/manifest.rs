//! An archive's `manifest.json`: what the archive holds (every entry with its
//! size and sha256), what it was taken of, and by which kinoflow.

use chrono::{DateTime, Utc};
use kinoflow_engine::store::SchemaVersions;
use serde::{Deserialize, Serialize};

use super::database::DatabaseKind;

/// The manifest's own format; a reader refuses any other.
pub const FORMAT: u32 = 1;

/// What the archive holds and where it came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub kinoflow_version: String,
    pub created_at: DateTime<Utc>,
    pub database: DatabaseKind,
    /// The schema the database was at when it was copied.
    pub schema: SchemaVersions,
    pub blobs: BlobsRecord,
    /// Every entry of the archive but the manifest itself.
    pub entries: Vec<Entry>,
}

/// Whether the blobs are in the archive, and why not when they are not.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlobsRecord {
    /// `local` or `s3`.
    pub storage: String,
    pub included: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl BlobsRecord {
    pub fn local() -> Self {
        Self {
            storage: "local".to_owned(),
            included: true,
            note: None,
        }
    }

    pub fn s3() -> Self {
        Self {
            storage: "s3".to_owned(),
            included: false,
            note: Some(
                "the objects stay in the S3 bucket and are not in this archive: back the \
                 bucket up with its own tools (versioning, replication)"
                    .to_owned(),
            ),
        }
    }
}

/// One file in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    /// What is wrong with the archive, given the entries read from it:
    /// nothing when they are exactly those the manifest lists.
    pub fn problems(&self, found: &[Entry]) -> Vec<String> {
        let mut problems = Vec::new();
        if self.format != FORMAT {
            problems.push(format!(
                "the manifest is of format {}, this kinoflow reads format {FORMAT}",
                self.format
            ));
        }
        for listed in &self.entries {
            match found.iter().find(|entry| entry.path == listed.path) {
                None => problems.push(format!(
                    "{} is in the manifest but missing from the archive",
                    listed.path
                )),
                Some(entry) if entry != listed => problems.push(format!(
                    "{}: its content does not match the manifest (sha256 {}, {} bytes; \
                     expected sha256 {}, {} bytes)",
                    listed.path, entry.sha256, entry.size, listed.sha256, listed.size
                )),
                Some(_) => {}
            }
        }
        for entry in found {
            if !self.entries.iter().any(|listed| listed.path == entry.path) {
                problems.push(format!(
                    "{} is in the archive but not in the manifest",
                    entry.path
                ));
            }
        }
        let dump = self.database.dump_entry();
        if !self.entries.iter().any(|listed| listed.path == dump) {
            problems.push(format!("the manifest lists no database dump ({dump})"));
        }
        problems
    }
}
