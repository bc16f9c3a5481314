//! The database side of a backup, for each kind of database: a consistent
//! dump taken while nodes run, a check that a dump is readable, its
//! restoration, and the nodes that run on a database now.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use kinoflow_engine::store::{
    now_ms, sqlite_file, sqlite_integrity_problems, PostgresStore, SchemaVersions, SqliteStore,
    Store, WorkerRecord,
};
use kinoflow_engine::ANNOUNCEMENT_TIMEOUT;
use serde::{Deserialize, Serialize};

use super::pg_tools;

/// Which database a dump is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// A copy of the database file.
    Sqlite,
    /// `pg_dump`'s custom format.
    Postgres,
}

impl DatabaseKind {
    /// The kind of database a URL names.
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            bail!("unsupported database URL: use sqlite://PATH or postgres://USER@HOST/DB")
        }
    }

    /// The dump's name in an archive.
    pub fn dump_entry(self) -> &'static str {
        match self {
            Self::Sqlite => "database/kinoflow.db",
            Self::Postgres => "database/kinoflow.pgdump",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }

    /// Checks, without restoring it, that the dump at `path` can be read.
    pub async fn check_dump(self, path: &Path) -> anyhow::Result<()> {
        match self {
            Self::Sqlite => {
                let problems = sqlite_integrity_problems(path)
                    .await
                    .context("the database copy cannot be opened")?;
                if !problems.is_empty() {
                    bail!(
                        "the database copy fails SQLite's integrity check:\n  {}",
                        problems.join("\n  ")
                    );
                }
                Ok(())
            }
            Self::Postgres => pg_tools::list(path)
                .await
                .context("the database dump cannot be read"),
        }
    }
}

/// A deployment's database, opened as a node opens it (migrations applied).
pub enum Database {
    Sqlite { store: SqliteStore, file: PathBuf },
    Postgres { store: PostgresStore, url: String },
}

impl Database {
    /// Opens the database at `url`. A SQLite file must exist already: a
    /// backup of a database made up on the spot would be no backup.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        match DatabaseKind::of_url(url)? {
            DatabaseKind::Sqlite => {
                let file = sqlite_file(url)?;
                if !file.is_file() {
                    bail!("there is no database at {}", file.display());
                }
                let store = SqliteStore::open_url(url)
                    .await
                    .with_context(|| format!("could not open the database {url}"))?;
                Ok(Self::Sqlite { store, file })
            }
            DatabaseKind::Postgres => {
                let store = PostgresStore::open_url(url)
                    .await
                    .context("could not open the PostgreSQL database")?;
                Ok(Self::Postgres {
                    store,
                    url: url.to_owned(),
                })
            }
        }
    }

    pub fn kind(&self) -> DatabaseKind {
        match self {
            Self::Sqlite { .. } => DatabaseKind::Sqlite,
            Self::Postgres { .. } => DatabaseKind::Postgres,
        }
    }

    fn store(&self) -> &dyn Store {
        match self {
            Self::Sqlite { store, .. } => store,
            Self::Postgres { store, .. } => store,
        }
    }

    pub async fn schema_versions(&self) -> anyhow::Result<SchemaVersions> {
        Ok(self.store().schema_versions().await?)
    }

    /// Writes a consistent dump of the database, as it is now, to `target`.
    pub async fn dump(&self, target: &Path) -> anyhow::Result<()> {
        match self {
            Self::Sqlite { store, file } => store
                .copy_into(target)
                .await
                .with_context(|| format!("could not copy the database {}", file.display())),
            Self::Postgres { url, .. } => pg_tools::dump(url, target).await,
        }
    }

    /// The nodes whose workers announced themselves within the timeout.
    pub async fn running_nodes(&self) -> anyhow::Result<Vec<WorkerRecord>> {
        let since = now_ms() - ANNOUNCEMENT_TIMEOUT.as_millis() as i64;
        Ok(self.store().list_workers(since).await?)
    }

    /// Closes every connection: the file may be replaced after this.
    pub async fn close(self) {
        match self {
            Self::Sqlite { store, .. } => store.close().await,
            Self::Postgres { store, .. } => store.close().await,
        }
    }
}
