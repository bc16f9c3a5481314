//! The embedded backend: one SQLite file in WAL mode, shared safely by several
//! kinoflow processes on one machine.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::*;
use crate::notifications::with_notification_methods;
use crate::now_ms;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::shared::shared_store;

stored_row!(SqliteRow);

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies the migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        Self::connect(SqliteConnectOptions::new().filename(path)).await
    }

    /// Opens a database from a `sqlite:` URL.
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        Self::connect(SqliteConnectOptions::from_str(url)?).await
    }

    /// WAL lets readers in other processes go on while one writes; the busy
    /// timeout makes writers from several processes wait their turn instead
    /// of failing. Within a process one connection serves every query:
    /// SQLite runs one writer at a time anyway, and with several connections
    /// they would sleep in each other's locks and each re-read the pages the
    /// others changed (measured: 40 % fewer jobs per second with eight).
    async fn connect(options: SqliteConnectOptions) -> StoreResult<Self> {
        let database = options.get_filename().to_owned();
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(15));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        restrict_to_owner(&database);
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

/// Makes the database file and its WAL companions readable by their owner
/// only, whatever the umask made them: rows hold webhook secrets. SQLite
/// gives the WAL files it makes later the database file's mode.
fn restrict_to_owner(database: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = database.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            // In-memory databases have no files.
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(file = ?path, error = %e,
                    "the database file could not be made private (mode 0600)");
            }
            _ => {}
        }
    }
}

/// Jobs match the pipelines bound as parameter 7, a JSON array of names.
const PIPELINE_IN_JSON_7: &str = "(SELECT value FROM json_each($7))";
/// SQLite locks the whole database for a write: no row lock to ask for.
const CLAIM_LOCK: &str = "";
/// Without statistics SQLite's planner picks a state index and sorts every
/// waiting job; the queue index gives them in claim order.
const QUEUE_INDEX: &str = "INDEXED BY jobs_queue";
/// Likewise each owner's waiting jobs: without the hint the planner reads
/// every waiting job to find the owners that have some.
const WAITING_BY_OWNER_INDEX: &str = "INDEXED BY jobs_waiting_by_owner";

/// Workers in this process are woken by the engine itself; other processes
/// on the same file find new jobs by polling.
async fn announce_new_job(_tx: &mut sqlx::Transaction<'_, Sqlite>) -> StoreResult<()> {
    Ok(())
}

/// A claim writes first, and SQLite runs one writing transaction at a time:
/// claims are serial already.
async fn serialize_claims(_tx: &mut sqlx::Transaction<'_, Sqlite>) -> StoreResult<()> {
    Ok(())
}

with_notification_methods!(shared_store, SqliteStore, Sqlite, {});
