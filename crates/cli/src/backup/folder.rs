//! The backup folder: archives are named `kinoflow-backup-<UTC time>.tar.gz`
//! (time to the millisecond, so that names sort as times do), written under
//! a temporary name first, listed newest first and rotated. Nothing else in
//! the folder is ever listed or deleted.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};

const PREFIX: &str = "kinoflow-backup-";
const SUFFIX: &str = ".tar.gz";
const TIME: &str = "%Y%m%dT%H%M%S%.3fZ";
/// Archives being written, and their scratch space, are hidden under this
/// prefix until complete.
pub const PARTIAL_PREFIX: &str = ".kinoflow-backup-";

/// An archive in the backup folder.
#[derive(Debug, Clone)]
pub struct ArchiveFile {
    pub path: PathBuf,
    pub created_at: DateTime<Utc>,
    pub size: u64,
}

/// The name of an archive written at `at`.
pub fn archive_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(TIME))
}

/// When the archive called `name` was written, if it is a backup archive's name.
fn created_at(name: &str) -> Option<DateTime<Utc>> {
    let time = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let at = NaiveDateTime::parse_from_str(time, TIME).ok()?.and_utc();
    // Only names this module writes: no other spelling of a time.
    (archive_name(at) == name).then_some(at)
}

/// The backup archives in `dir`, newest first; none when `dir` does not exist.
pub fn list(dir: &Path) -> anyhow::Result<Vec<ArchiveFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("could not list the backup folder {}", dir.display()))
        }
    };
    let mut archives = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(created_at) = entry.file_name().to_str().and_then(created_at) else {
            continue;
        };
        let metadata = entry.metadata()?;
        if metadata.is_file() {
            archives.push(ArchiveFile {
                path: entry.path(),
                created_at,
                size: metadata.len(),
            });
        }
    }
    archives.sort_by_key(|archive| std::cmp::Reverse(archive.created_at));
    Ok(archives)
}

/// Deletes all but the newest `keep` archives in `dir`; returns those deleted.
pub fn rotate(dir: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut deleted = Vec::new();
    for old in list(dir)?.into_iter().skip(keep) {
        std::fs::remove_file(&old.path)
            .with_context(|| format!("could not delete the old backup {}", old.path.display()))?;
        deleted.push(old.path);
    }
    Ok(deleted)
}

/// A size for people: `1.5 GiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_is_an_archive() {
        let at = DateTime::parse_from_rfc3339("2025-03-04T05:06:07.089Z")
            .unwrap()
            .with_timezone(&Utc);
        let name = archive_name(at);
        assert_eq!(name, "kinoflow-backup-20250304T050607.089Z.tar.gz");
        assert_eq!(created_at(&name), Some(at));
        for other in [
            "kinoflow-backup-20250304T050607Z.tar.gz",
            "kinoflow-backup-20250304T050607.089Z.tar.gz.partial",
            ".kinoflow-backup-20250304T050607.089Z.tar.gz",
            "kinoflow-backup-latest.tar.gz",
            "notes.txt",
        ] {
            assert_eq!(created_at(other), None, "{other}");
        }
    }
}
