//! The archive's format: a gzip-compressed tar of the database dump
//! (`database/…`), the blob files (`blobs/<key>`) and, last,
//! `manifest.json`, which lists every other entry with its size and sha256.
//! Writing hashes each entry as it goes in; reading hashes each as it comes
//! out and checks the lot against the manifest.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::manifest::{Entry, Manifest};

pub const MANIFEST: &str = "manifest.json";
/// The folder of the blob files in an archive.
pub const BLOBS: &str = "blobs/";

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn entry(self, path: &str) -> Entry {
        Entry {
            path: path.to_owned(),
            size: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        self.bytes += read as u64;
        Ok(read)
    }
}

/// An archive being written.
pub struct ArchiveWriter {
    builder: tar::Builder<GzEncoder<File>>,
    entries: Vec<Entry>,
}

impl ArchiveWriter {
    /// Writes into `file`. Video hardly compresses: the fast level costs
    /// little time for what the database gains.
    pub fn new(file: File) -> Self {
        Self {
            builder: tar::Builder::new(GzEncoder::new(file, Compression::fast())),
            entries: Vec::new(),
        }
    }

    /// Adds the file at `source` as `path`.
    pub fn add_file(&mut self, path: &str, source: &Path) -> anyhow::Result<()> {
        let file =
            File::open(source).with_context(|| format!("could not read {}", source.display()))?;
        self.add_open_file(path, source, file)
    }

    fn add_open_file(&mut self, path: &str, source: &Path, file: File) -> anyhow::Result<()> {
        let metadata = file.metadata()?;
        let mut header = tar::Header::new_gnu();
        header.set_size(metadata.len());
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        let modified = metadata.modified().ok();
        let since_epoch = modified.and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok());
        header.set_mtime(since_epoch.map_or(0, |d| d.as_secs()));
        let mut data = Hashing::new(file.take(metadata.len()));
        self.builder
            .append_data(&mut header, path, &mut data)
            .with_context(|| format!("could not archive {}", source.display()))?;
        if data.bytes != metadata.len() {
            bail!("{} changed while it was being archived", source.display());
        }
        self.entries.push(data.entry(path));
        Ok(())
    }

    /// Adds every file under `root` as `blobs/<its path under root>`, but
    /// those under `skip` (writes in progress).
    pub fn add_blobs(&mut self, root: &Path, skip: &str) -> anyhow::Result<()> {
        if !root.is_dir() {
            bail!("the blob folder {} does not exist", root.display());
        }
        let mut folders = vec![PathBuf::new()];
        while let Some(folder) = folders.pop() {
            let mut children: Vec<_> = std::fs::read_dir(root.join(&folder))
                .with_context(|| format!("could not list {}", root.join(&folder).display()))?
                .collect::<io::Result<_>>()?;
            children.sort_by_key(|child| child.file_name());
            for child in children {
                let relative = folder.join(child.file_name());
                let kind = child.file_type()?;
                if kind.is_dir() && relative != Path::new(skip) {
                    folders.push(relative);
                } else if kind.is_file() {
                    self.add_blob(root, &relative)?;
                } else if !kind.is_dir() {
                    bail!(
                        "{} is not a file: a blob folder holds only files and folders",
                        child.path().display()
                    );
                }
            }
        }
        Ok(())
    }

    fn add_blob(&mut self, root: &Path, relative: &Path) -> anyhow::Result<()> {
        let source = root.join(relative);
        let name = relative
            .to_str()
            .with_context(|| format!("{} is not a blob key", source.display()))?;
        match File::open(&source) {
            Ok(file) => self.add_open_file(&format!("{BLOBS}{name}"), &source, file),
            // Deleted since the folder was listed (a job removed meanwhile).
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).with_context(|| format!("could not read {}", source.display())),
        }
    }

    /// Appends the manifest, with the entries written, and finishes the
    /// archive; returns its file, flushed but not yet synced.
    pub fn finish(mut self, mut manifest: Manifest) -> anyhow::Result<File> {
        manifest.entries = std::mem::take(&mut self.entries);
        let text = serde_json::to_vec_pretty(&manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(manifest.created_at.timestamp().max(0) as u64);
        self.builder
            .append_data(&mut header, MANIFEST, text.as_slice())?;
        let mut file = self.builder.into_inner()?.finish()?;
        file.flush()?;
        Ok(file)
    }
}

/// Reads every entry of the archive at `path`, hands each but the manifest
/// to `each` with its name (it may read all of it, some or none), and
/// checks what was read against the manifest; returns the manifest.
pub fn read(
    path: &Path,
    mut each: impl FnMut(&str, &mut dyn Read) -> anyhow::Result<()>,
) -> anyhow::Result<Manifest> {
    let file = File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let mut decoder = GzDecoder::new(file);
    let mut found = Vec::new();
    let mut manifest = None;
    let damaged = |e: io::Error, found: &[Entry]| {
        let place = found.last().map_or("at its start".to_owned(), |entry| {
            format!("after {}", entry.path)
        });
        anyhow::anyhow!("the archive {} is damaged {place}: {e}", path.display())
    };
    {
        let mut archive = tar::Archive::new(&mut decoder);
        for entry in archive.entries().map_err(|e| damaged(e, &found))? {
            let mut entry = entry.map_err(|e| damaged(e, &found))?;
            let name = entry_name(&entry)?;
            if name == MANIFEST {
                let mut text = Vec::new();
                entry
                    .read_to_end(&mut text)
                    .map_err(|e| damaged(e, &found))?;
                manifest = Some(serde_json::from_slice::<Manifest>(&text).with_context(|| {
                    format!("the manifest of {} is unreadable", path.display())
                })?);
                continue;
            }
            let size = entry.size();
            let mut data = Hashing::new(&mut entry);
            each(&name, &mut data).map_err(|e| match e.downcast::<Unreadable>() {
                Ok(Unreadable(io)) => damaged(io, &found),
                Err(other) => other,
            })?;
            io::copy(&mut data, &mut io::sink()).map_err(|e| damaged(e, &found))?;
            if data.bytes != size {
                let cut =
                    io::Error::new(io::ErrorKind::UnexpectedEof, format!("{name} is cut short"));
                return Err(damaged(cut, &found));
            }
            found.push(data.entry(&name));
        }
    }
    // The tar ends before the gzip trailer: read on, so that its checksum
    // is checked too.
    io::copy(&mut decoder, &mut io::sink()).map_err(|e| damaged(e, &found))?;
    let Some(manifest) = manifest else {
        bail!(
            "{} has no {MANIFEST}: it is not a kinoflow backup, or it was cut short",
            path.display()
        );
    };
    let problems = manifest.problems(&found);
    if !problems.is_empty() {
        bail!(
            "{} does not match its manifest:\n  {}",
            path.display(),
            problems.join("\n  ")
        );
    }
    Ok(manifest)
}

/// An entry's name, which must be a plain relative path.
fn entry_name<R: Read>(entry: &tar::Entry<R>) -> anyhow::Result<String> {
    let path = entry.path()?;
    let plain = path
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    match path.to_str() {
        Some(name) if plain => Ok(name.to_owned()),
        _ => bail!(
            "the archive holds an entry outside its root: {}",
            path.display()
        ),
    }
}

/// An entry's data could not be read: the archive is damaged.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Unreadable(io::Error);

/// Copies an entry's `data` into a new file at `target`, synced to disk.
pub fn write_file(data: &mut dyn Read, target: &Path) -> anyhow::Result<()> {
    let written = || format!("could not write {}", target.display());
    let mut file = File::create(target).with_context(written)?;
    let mut buffer = vec![0; 256 * 1024];
    loop {
        let read = data.read(&mut buffer).map_err(Unreadable)?;
        if read == 0 {
            break;
        }
        file.write_all(&buffer[..read]).with_context(written)?;
    }
    file.sync_all().with_context(written)
}
