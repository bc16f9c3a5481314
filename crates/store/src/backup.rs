//! What a backup asks of the database: the schema it is at (for the
//! archive's manifest), a consistent copy of a SQLite file taken while the
//! server runs, and a check that such a copy is whole. PostgreSQL is dumped
//! and restored by its own tools, which need nothing from here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Pool, Sqlite};

use crate::error::StoreError;
use crate::repository::StoreResult;
use crate::sql::{sql, Backend, StoredRow};
use crate::store::SqlStore;

/// The schema a database is at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaVersions {
    /// The store's own migrations applied, by version.
    pub store: Vec<i64>,
    /// The steps of each compatible API's tables applied, by extension name.
    pub extensions: BTreeMap<String, Vec<i64>>,
}

pub(crate) async fn schema_versions<DB: Backend>(pool: &Pool<DB>) -> StoreResult<SchemaVersions> {
    let mut versions = SchemaVersions::default();
    let rows = sql("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await?;
    for row in &rows {
        versions.store.push(row.int("version")?);
    }
    let rows =
        sql("SELECT extension, version FROM extension_migrations ORDER BY extension, version")
            .fetch_all(pool)
            .await?;
    for row in &rows {
        versions
            .extensions
            .entry(row.text("extension")?)
            .or_default()
            .push(row.int("version")?);
    }
    Ok(versions)
}

impl SqlStore<Sqlite> {
    /// Writes a consistent copy of the database to `target` (which must not
    /// exist) while others go on reading and writing it: `VACUUM INTO` reads
    /// one snapshot, and the copy is compact and needs no WAL file.
    pub async fn copy_into(&self, target: &Path) -> StoreResult<()> {
        let target = target.to_str().ok_or_else(|| {
            StoreError::Corrupt(format!("{} is not a UTF-8 path", target.display()))
        })?;
        sql("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The database file a `sqlite:` URL names; an in-memory database has none.
pub fn sqlite_file(url: &str) -> StoreResult<PathBuf> {
    let options = SqliteConnectOptions::from_str(url)?;
    let file = options.get_filename();
    if file.as_os_str().is_empty() || file == Path::new(":memory:") {
        return Err(StoreError::Corrupt(format!(
            "{url} is an in-memory database: it has no file to back up"
        )));
    }
    Ok(file.to_owned())
}

/// What SQLite's `PRAGMA integrity_check` finds wrong with the database
/// file at `path`, opened read-only: nothing when it is whole.
pub async fn sqlite_integrity_problems(path: &Path) -> StoreResult<Vec<String>> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let rows = sql("PRAGMA integrity_check").fetch_all(&pool).await;
    pool.close().await;
    let mut problems = Vec::new();
    for row in &rows? {
        let finding = row.text("integrity_check")?;
        if finding != "ok" {
            problems.push(finding);
        }
    }
    Ok(problems)
}
