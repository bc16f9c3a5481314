//! The embedded backend: one SQLite file in WAL mode, shared safely by several
//! kinoflow processes on one machine.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};
use tokio::sync::Notify;

use crate::dialect::{Claim, Dialect};
use crate::extension::{Extension, ExtensionDatabase, ExtensionMigration};
use crate::repository::StoreResult;
use crate::sql::{sql, StoredRow};
use crate::store::SqlStore;

/// The SQLite store.
pub type SqliteStore = SqlStore<Sqlite>;

impl Dialect for Sqlite {
    /// One by one. The one-statement form (as PostgreSQL's) measured
    /// slower here: SQLite's planner walks every queued job through the
    /// state index to find the chosen ones; and a SQLite statement costs no
    /// network round trip.
    const CLAIM: Claim = Claim::OneByOne(include_str!("../sql/sqlite/claim_job.sql"));
    const RENEW_LEASES: &'static str = include_str!("../sql/sqlite/renew_leases.sql");
    const FINISH_JOBS: &'static str = include_str!("../sql/sqlite/finish_jobs.sql");
    const INSERT_EVENTS: &'static str = include_str!("../sql/sqlite/insert_events.sql");
    const INSERT_JOBS: &'static str = include_str!("../sql/sqlite/insert_jobs.sql");
    const CLAIM_DELIVERIES: &'static str = include_str!("../sql/sqlite/claim_deliveries.sql");
    /// Workers in this process are woken by the engine itself; other
    /// processes on the same file find new jobs by polling.
    const ANNOUNCE_NEW_JOB: Option<&'static str> = None;
    /// A claim writes first, and SQLite runs one writing transaction at a
    /// time: claims are serial already.
    const SERIALIZE_CLAIMS: Option<&'static str> = None;
    const SERIALIZE_MIGRATIONS: Option<&'static str> = None;

    fn extension_steps(extension: &Extension) -> &'static [ExtensionMigration] {
        extension.sqlite
    }

    fn extension_database(pool: &Pool<Self>) -> ExtensionDatabase<'_> {
        ExtensionDatabase::Sqlite(pool)
    }

    async fn watch_new_jobs(_pool: &Pool<Self>, _wake: Arc<Notify>) -> StoreResult<()> {
        Ok(())
    }
}

impl SqlStore<Sqlite> {
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
        migrate(&pool).await?;
        Ok(Self { pool })
    }
}

/// Applies the migrations with foreign keys off, as SQLite asks of a
/// migration that rebuilds a table others refer to: dropping the old table
/// would otherwise delete the rows that refer to it. The pool's one
/// connection runs it all, since the pragma holds for the connection it is
/// run on (outside a transaction).
async fn migrate(pool: &Pool<Sqlite>) -> StoreResult<()> {
    let mut connection = pool.acquire().await?;
    sql("PRAGMA foreign_keys = OFF")
        .execute(&mut connection)
        .await?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut *connection)
        .await?;
    // A rebuild copies rows as they are: a reference found broken now was
    // broken before, so it is reported and the database still opens.
    let broken = sql("PRAGMA foreign_key_check")
        .fetch_all(&mut connection)
        .await?;
    for row in &broken {
        tracing::warn!(
            table = row.text("table")?,
            parent = row.text("parent")?,
            "a row refers to one that is missing"
        );
    }
    sql("PRAGMA foreign_keys = ON")
        .execute(&mut connection)
        .await?;
    Ok(())
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
