//! The place where a compatible API keeps tables of its own, beside the
//! store's. It describes its schema as an [`Extension`], steps in the SQL of
//! each database, which the store applies once each (recorded in
//! `extension_migrations`, apart from the store's own migrations); then it
//! runs its queries on the store's database ([`ExtensionDatabase`]).

use sqlx::{PgPool, Pool, SqlitePool};

use crate::dialect::Dialect;
use crate::now_ms;
use crate::repository::StoreResult;
use crate::sql::{sql, On};

/// A compatible API's own tables.
#[derive(Debug, Clone, Copy)]
pub struct Extension {
    /// Names the extension in `extension_migrations`; never changes.
    pub name: &'static str,
    pub sqlite: &'static [ExtensionMigration],
    pub postgres: &'static [ExtensionMigration],
}

/// One step of an extension's schema, in the SQL of the database it is for.
#[derive(Debug, Clone, Copy)]
pub struct ExtensionMigration {
    /// Steps are applied in the order of their versions, each once.
    pub version: i64,
    pub description: &'static str,
    /// One or more statements, without placeholders.
    pub sql: &'static str,
}

/// The database under a store, for an extension's queries on its own tables.
#[derive(Debug, Clone, Copy)]
pub enum ExtensionDatabase<'a> {
    /// The store keeps its records in SQLite.
    Sqlite(&'a SqlitePool),
    /// The store keeps its records in PostgreSQL.
    Postgres(&'a PgPool),
}

/// Applies the steps of `extension`'s schema that were not applied yet,
/// each in a transaction with its record.
pub(crate) async fn migrate<DB: Dialect>(
    pool: &Pool<DB>,
    extension: &str,
    steps: &[ExtensionMigration],
) -> StoreResult<()> {
    let mut steps = steps.to_vec();
    steps.sort_by_key(|step| step.version);
    for step in steps {
        apply(pool, extension, &step).await?;
    }
    Ok(())
}

async fn apply<DB: Dialect>(
    pool: &Pool<DB>,
    extension: &str,
    step: &ExtensionMigration,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    if let Some(serialize) = DB::SERIALIZE_MIGRATIONS {
        // Two nodes starting together: the second waits, then sees the step applied.
        sql(serialize).execute(&mut tx).await?;
    }
    let applied = sql("SELECT version FROM extension_migrations \
                       WHERE extension = $1 AND version = $2")
    .bind(extension)
    .bind(step.version)
    .fetch_optional(&mut tx)
    .await?;
    if applied.is_some() {
        return Ok(());
    }
    DB::execute_script(On::from(&mut tx), step.sql).await?;
    sql(
        "INSERT INTO extension_migrations (extension, version, description, applied_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(extension)
    .bind(step.version)
    .bind(step.description)
    .bind(now_ms())
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
