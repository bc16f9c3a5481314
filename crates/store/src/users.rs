//! Users and their API keys.

use sqlx::Pool;
use uuid::Uuid;

use crate::error::StoreError;
use crate::model::*;
use crate::now_ms;
use crate::repository::StoreResult;
use crate::rows::*;
use crate::sql::{sql, Backend};

pub(crate) async fn create_user<DB: Backend>(
    pool: &Pool<DB>,
    email: &str,
    password_hash: &str,
    role: Role,
) -> StoreResult<UserRecord> {
    let user = UserRecord {
        id: Uuid::now_v7().to_string(),
        email: email.to_owned(),
        password_hash: password_hash.to_owned(),
        role,
        notify_by_email: false,
        created_at: now_ms(),
    };
    let inserted = sql(
        "INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(user.created_at)
    .execute(pool)
    .await;
    match inserted {
        Ok(_) => Ok(user),
        Err(StoreError::Database(e)) if is_unique_violation(&e) => Err(StoreError::Conflict(
            format!("a user with e-mail {email} already exists"),
        )),
        Err(e) => Err(e),
    }
}

pub(crate) async fn user_by_email<DB: Backend>(
    pool: &Pool<DB>,
    email: &str,
) -> StoreResult<Option<UserRecord>> {
    let row = sql("SELECT * FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub(crate) async fn user_by_id<DB: Backend>(
    pool: &Pool<DB>,
    id: &str,
) -> StoreResult<Option<UserRecord>> {
    let row = sql("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Whether the user is mailed at the end of each of their jobs.
pub(crate) async fn set_notify_by_email<DB: Backend>(
    pool: &Pool<DB>,
    user_id: &str,
    on: bool,
) -> StoreResult<Option<UserRecord>> {
    let row = sql("UPDATE users SET notify_by_email = $1 WHERE id = $2 RETURNING *")
        .bind(i64::from(on))
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// The most sessions one user keeps: signing in again ends the oldest, so
/// that signing in over and over cannot grow the table without bound.
const MAX_SESSIONS_PER_USER: i64 = 20;

/// Keeps a new browser session; expired sessions go at the same time, and
/// the user's oldest beyond [`MAX_SESSIONS_PER_USER`].
pub(crate) async fn create_session<DB: Backend>(
    pool: &Pool<DB>,
    id_hash: &str,
    user_id: &str,
    expires_at: i64,
) -> StoreResult<()> {
    let now = now_ms();
    let mut tx = pool.begin().await?;
    sql("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut tx)
        .await?;
    sql("INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut tx)
        .await?;
    sql(
        "DELETE FROM sessions WHERE user_id = $1 AND id_hash NOT IN \
         (SELECT id_hash FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id_hash DESC LIMIT $2)",
    )
    .bind(user_id)
    .bind(MAX_SESSIONS_PER_USER)
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user of a session that has not expired.
pub(crate) async fn user_by_session_hash<DB: Backend>(
    pool: &Pool<DB>,
    id_hash: &str,
) -> StoreResult<Option<UserRecord>> {
    let row = sql(
        "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
                   WHERE s.id_hash = $1 AND s.expires_at > $2",
    )
    .bind(id_hash)
    .bind(now_ms())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub(crate) async fn delete_session<DB: Backend>(pool: &Pool<DB>, id_hash: &str) -> StoreResult<()> {
    sql("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn create_api_key<DB: Backend>(
    pool: &Pool<DB>,
    user_id: &str,
    name: &str,
    prefix: &str,
    key_hash: &str,
) -> StoreResult<ApiKeyRecord> {
    let key = ApiKeyRecord {
        id: Uuid::now_v7().to_string(),
        user_id: user_id.to_owned(),
        name: name.to_owned(),
        prefix: prefix.to_owned(),
        created_at: now_ms(),
        revoked_at: None,
    };
    sql(
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.id)
    .bind(&key.user_id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(key_hash)
    .bind(key.created_at)
    .execute(pool)
    .await?;
    Ok(key)
}

pub(crate) async fn list_api_keys<DB: Backend>(
    pool: &Pool<DB>,
    user_id: &str,
) -> StoreResult<Vec<ApiKeyRecord>> {
    let rows = sql("SELECT * FROM api_keys WHERE user_id = $1 ORDER BY id")
        .bind(user_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(api_key_from_row).collect()
}

/// False when the user has no such key.
pub(crate) async fn revoke_api_key<DB: Backend>(
    pool: &Pool<DB>,
    user_id: &str,
    key_id: &str,
) -> StoreResult<bool> {
    let changed = sql(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND user_id = $3",
    )
    .bind(now_ms())
    .bind(key_id)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(changed > 0)
}

/// The owner of a key that is not revoked.
pub(crate) async fn user_by_api_key_hash<DB: Backend>(
    pool: &Pool<DB>,
    key_hash: &str,
) -> StoreResult<Option<UserRecord>> {
    let row = sql(
        "SELECT u.* FROM api_keys k JOIN users u ON u.id = k.user_id \
                   WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}
