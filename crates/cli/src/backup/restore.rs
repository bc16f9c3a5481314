//! Restoring an archive onto a deployment. Nothing is replaced before the
//! whole archive has been read, matched against its manifest and its dump
//! checked: the database is first written beside the live one (or, for
//! PostgreSQL, into a temporary file) and the blobs into a folder beside
//! the blob folder. Then the SQLite file is swapped in by a rename (or
//! `pg_restore` replaces the tables in one transaction), the blob folder
//! likewise, and the store is opened as a node opens it, which applies the
//! migrations this kinoflow has and the archive's database had not.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use kinoflow_engine::blobs::validate_key;
use kinoflow_engine::store::sqlite_file;
use tempfile::{TempDir, TempPath};

use super::archive::{self, write_file, BLOBS};
use super::create::sync_folder;
use super::database::{Database, DatabaseKind};
use super::manifest::Manifest;
use super::pg_tools;
use super::Deployment;

/// What a restore put back.
pub struct Restored {
    pub manifest: Manifest,
    /// Whether the blob folder was replaced by the archive's.
    pub blobs_replaced: bool,
}

/// Restores the archive at `archive` onto `target`. Refuses while a node
/// runs on the target's database, unless `force`.
pub async fn restore(archive: &Path, target: &Deployment, force: bool) -> anyhow::Result<Restored> {
    let kind = DatabaseKind::of_url(&target.database_url)?;
    if !force {
        refuse_if_running(target, kind).await?;
    }
    let staged = stage(archive, target, kind).await?;
    kind.check_dump(&staged.dump)
        .await
        .with_context(|| format!("{} is damaged", archive.display()))?;
    let blobs_replaced = staged.blobs.is_some();
    let manifest = staged.swap_in(target, kind).await?;
    Database::open(&target.database_url)
        .await
        .context("the database was restored, but could not be opened and migrated")?
        .close()
        .await;
    Ok(Restored {
        manifest,
        blobs_replaced,
    })
}

/// Fails when a node's workers announced themselves on the target's
/// database within the timeout. A SQLite file that is not there has none.
async fn refuse_if_running(target: &Deployment, kind: DatabaseKind) -> anyhow::Result<()> {
    let url = &target.database_url;
    if kind == DatabaseKind::Sqlite && !sqlite_file(url)?.exists() {
        return Ok(());
    }
    let database = Database::open(url).await.context(
        "could not tell whether a node is running on the target database; \
         if none is, restore with --force",
    )?;
    let nodes = database.running_nodes().await;
    database.close().await;
    let nodes = nodes?;
    if nodes.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = nodes
        .iter()
        .map(|node| format!("{} (pid {} on {})", node.id, node.pid, node.host))
        .collect();
    bail!(
        "a kinoflow node is running on the target database: {}. Stop every node that \
         uses it (serve, worker) and restore again, or restore with --force to replace \
         the data under it",
        names.join(", ")
    )
}

/// An archive read out beside its targets, not yet in place.
struct Staged {
    manifest: Manifest,
    /// Beside the SQLite file, or a temporary file for `pg_restore`.
    dump: TempPath,
    /// Beside the blob folder, when the archive holds blobs.
    blobs: Option<TempDir>,
}

/// Reads the archive into place beside the targets, checking every entry.
async fn stage(archive: &Path, target: &Deployment, kind: DatabaseKind) -> anyhow::Result<Staged> {
    let dump = match kind {
        DatabaseKind::Sqlite => staging_file(&sqlite_file(&target.database_url)?)?,
        DatabaseKind::Postgres => tempfile::NamedTempFile::new()
            .context("could not make a temporary file")?
            .into_temp_path(),
    };
    let (archive, blob_root) = (archive.to_owned(), target.blob_root.clone());
    tokio::task::spawn_blocking(move || {
        let mut blobs = None;
        let manifest = archive::read(&archive, |name, data| {
            if name == kind.dump_entry() {
                write_file(data, &dump)
            } else if name.starts_with("database/") {
                bail!(
                    "the archive holds another kind of database than the target's {} ({name})",
                    kind.describe()
                )
            } else if let Some(key) = name.strip_prefix(BLOBS) {
                let folder = match blobs.take() {
                    Some(folder) => folder,
                    None => staging_folder(blob_root.as_deref())?,
                };
                let written = write_blob(folder.path(), key, data);
                blobs = Some(folder);
                written
            } else {
                bail!("the archive holds an unknown entry {name}")
            }
        })?;
        // A backup of an empty blob folder empties it.
        if manifest.blobs.included && blobs.is_none() {
            blobs = Some(staging_folder(blob_root.as_deref())?);
        }
        Ok(Staged {
            manifest,
            dump,
            blobs,
        })
    })
    .await?
}

/// An empty file beside `file`, to be renamed over it.
fn staging_file(file: &Path) -> anyhow::Result<TempPath> {
    let folder = parent(file);
    std::fs::create_dir_all(folder)
        .with_context(|| format!("could not create {}", folder.display()))?;
    let staged = tempfile::Builder::new()
        .prefix(".kinoflow-restore-")
        .tempfile_in(folder)
        .with_context(|| format!("could not write in {}", folder.display()))?;
    Ok(staged.into_temp_path())
}

/// An empty folder beside the blob folder, to be renamed over it.
fn staging_folder(blob_root: Option<&Path>) -> anyhow::Result<TempDir> {
    let Some(root) = blob_root else {
        bail!(
            "the archive holds the blob files of a local folder, but the target's storage \
             is S3: restore it onto local storage, or copy its blobs/ into the bucket yourself"
        );
    };
    let folder = parent(root);
    std::fs::create_dir_all(folder)
        .with_context(|| format!("could not create {}", folder.display()))?;
    tempfile::Builder::new()
        .prefix(".kinoflow-restore-")
        .tempdir_in(folder)
        .with_context(|| format!("could not write in {}", folder.display()))
}

fn write_blob(folder: &Path, key: &str, data: &mut dyn std::io::Read) -> anyhow::Result<()> {
    validate_key(key).with_context(|| format!("the archive holds a bad blob name {key:?}"))?;
    let path = folder.join(key);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("could not create {}", parent.display()))?;
    }
    write_file(data, &path)
}

/// The folder `path` is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    }
}

impl Staged {
    /// Puts the staged database, then the staged blobs, in place.
    async fn swap_in(self, target: &Deployment, kind: DatabaseKind) -> anyhow::Result<Manifest> {
        match kind {
            DatabaseKind::Sqlite => {
                replace_sqlite_file(self.dump, &sqlite_file(&target.database_url)?)?
            }
            DatabaseKind::Postgres => pg_tools::restore(&target.database_url, &self.dump).await?,
        }
        if let (Some(staged), Some(root)) = (self.blobs, &target.blob_root) {
            replace_folder(staged, root)?;
        }
        Ok(self.manifest)
    }
}

/// Renames the staged copy over the database file. The old file's WAL and
/// shared-memory files go first: SQLite would otherwise replay the old
/// database's pages into the new one.
fn replace_sqlite_file(staged: TempPath, file: &Path) -> anyhow::Result<()> {
    for suffix in ["-wal", "-shm"] {
        let mut companion = file.as_os_str().to_owned();
        companion.push(suffix);
        match std::fs::remove_file(&companion) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("could not remove {companion:?}"));
            }
            _ => {}
        }
    }
    staged
        .persist(file)
        .map_err(|e| e.error)
        .with_context(|| format!("could not replace {}", file.display()))?;
    sync_folder(parent(file)).with_context(|| format!("could not replace {}", file.display()))
}

/// Puts the staged folder where `root` is, and removes the old one.
fn replace_folder(staged: TempDir, root: &Path) -> anyhow::Result<()> {
    let folder = parent(root);
    let replaced: PathBuf = folder.join(format!(
        ".kinoflow-replaced-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let had_one = root.exists();
    if had_one {
        std::fs::rename(root, &replaced)
            .with_context(|| format!("could not move {} aside", root.display()))?;
    }
    let staged = staged.keep();
    if let Err(e) = std::fs::rename(&staged, root) {
        // Put the old folder back rather than leave none.
        if had_one {
            let _ = std::fs::rename(&replaced, root);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e)
            .with_context(|| format!("could not put the restored blobs at {}", root.display()));
    }
    if had_one {
        std::fs::remove_dir_all(&replaced)
            .with_context(|| format!("could not remove the old blobs at {}", replaced.display()))?;
    }
    sync_folder(folder).with_context(|| format!("could not replace {}", root.display()))
}
