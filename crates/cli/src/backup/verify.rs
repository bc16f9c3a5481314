//! Checking an archive without restoring it: the manifest is there, every
//! entry matches its checksum, and the database dump can be read (SQLite's
//! integrity check on the copy; `pg_restore --list` on a PostgreSQL dump).

use std::path::Path;

use anyhow::{bail, Context};

use super::archive::{self, write_file};
use super::manifest::Manifest;

/// Checks the archive at `path`; returns its manifest when it is sound.
pub async fn verify(path: &Path) -> anyhow::Result<Manifest> {
    let scratch = tempfile::tempdir().context("could not make a temporary folder")?;
    let dump = scratch.path().join("database");
    let (archive_path, extracted) = (path.to_owned(), dump.clone());
    let (manifest, dump_name) = tokio::task::spawn_blocking(move || {
        let mut dump_name = None;
        let manifest = archive::read(&archive_path, |name, data| {
            if name.starts_with("database/") && dump_name.is_none() {
                dump_name = Some(name.to_owned());
                write_file(data, &extracted)?;
            }
            Ok(())
        })?;
        anyhow::Ok((manifest, dump_name))
    })
    .await??;
    if dump_name.as_deref() != Some(manifest.database.dump_entry()) {
        bail!(
            "{} holds no {} dump where its manifest says",
            path.display(),
            manifest.database.describe()
        );
    }
    manifest
        .database
        .check_dump(&dump)
        .await
        .with_context(|| format!("{} is damaged", path.display()))?;
    Ok(manifest)
}
