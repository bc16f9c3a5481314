//! Running the store's SQL on any database sqlx drives. A [`Statement`] is
//! SQL text written once, with `$N` placeholders (SQLite reads them as
//! PostgreSQL does), and the values bound to them. [`Backend`] gathers the
//! sqlx bounds a database must meet to run statements and read rows, once,
//! so that the code which uses it needs no more than `DB: Backend`.

use std::future::Future;

use sqlx::pool::PoolConnection;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Transaction, Type,
};

use crate::error::StoreError;
use crate::repository::StoreResult;

/// A value bound to a placeholder: the few column types the store uses.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(bool),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(Some(value.to_owned()))
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(Some(value))
    }
}

impl From<&String> for Arg {
    fn from(value: &String) -> Self {
        Arg::Text(Some(value.clone()))
    }
}

impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        Arg::Text(value.map(str::to_owned))
    }
}

impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Self {
        Arg::Text(value)
    }
}

impl From<&Option<String>> for Arg {
    fn from(value: &Option<String>) -> Self {
        Arg::Text(value.clone())
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(Some(value))
    }
}

impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        Arg::Int(value)
    }
}

impl From<f64> for Arg {
    fn from(value: f64) -> Self {
        Arg::Float(Some(value))
    }
}

impl From<Option<f64>> for Arg {
    fn from(value: Option<f64>) -> Self {
        Arg::Float(value)
    }
}

impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Arg::Bool(value)
    }
}

/// Where a statement runs: on the pool (a connection of its own) or in a
/// transaction (or any connection held).
pub(crate) enum On<'e, DB: Database> {
    Pool(&'e Pool<DB>),
    Connection(&'e mut DB::Connection),
}

impl<'e, DB: Database> From<&'e Pool<DB>> for On<'e, DB> {
    fn from(pool: &'e Pool<DB>) -> Self {
        On::Pool(pool)
    }
}

impl<'e, 't, DB: Database> From<&'e mut Transaction<'t, DB>> for On<'e, DB> {
    fn from(tx: &'e mut Transaction<'t, DB>) -> Self {
        On::Connection(&mut **tx)
    }
}

impl<'e, DB: Database> From<&'e mut PoolConnection<DB>> for On<'e, DB> {
    fn from(connection: &'e mut PoolConnection<DB>) -> Self {
        On::Connection(&mut **connection)
    }
}

/// SQL text and the values for its placeholders, in order.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    text: &'static str,
    args: Vec<Arg>,
}

/// Starts a statement.
pub(crate) fn sql(text: &'static str) -> Statement {
    Statement {
        text,
        args: Vec::new(),
    }
}

impl Statement {
    /// Binds the next placeholder.
    pub(crate) fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    pub(crate) async fn fetch_optional<'e, DB: Backend>(
        self,
        on: impl Into<On<'e, DB>>,
    ) -> StoreResult<Option<DB::Row>> {
        Ok(DB::fetch_optional(on.into(), self).await?)
    }

    pub(crate) async fn fetch_one<'e, DB: Backend>(
        self,
        on: impl Into<On<'e, DB>>,
    ) -> StoreResult<DB::Row> {
        let row = DB::fetch_optional(on.into(), self).await?;
        Ok(row.ok_or(sqlx::Error::RowNotFound)?)
    }

    pub(crate) async fn fetch_all<'e, DB: Backend>(
        self,
        on: impl Into<On<'e, DB>>,
    ) -> StoreResult<Vec<DB::Row>> {
        Ok(DB::fetch_all(on.into(), self).await?)
    }

    /// Runs the statement; how many rows it changed.
    pub(crate) async fn execute<'e, DB: Backend>(
        self,
        on: impl Into<On<'e, DB>>,
    ) -> StoreResult<u64> {
        Ok(DB::execute(on.into(), self).await?)
    }
}

/// A statement whose conditions depend on the request: SQL fragments and
/// values in order, each value's placeholder numbered where it stands.
#[derive(Debug, Clone)]
pub(crate) struct Assembled {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Sql(&'static str),
    Value(Arg),
}

impl Assembled {
    pub(crate) fn new(head: &'static str) -> Self {
        Self {
            parts: vec![Part::Sql(head)],
        }
    }

    /// Appends SQL that takes no value.
    pub(crate) fn push(mut self, fragment: &'static str) -> Self {
        self.parts.push(Part::Sql(fragment));
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn push_bind(mut self, value: impl Into<Arg>) -> Self {
        self.parts.push(Part::Value(value.into()));
        self
    }

    pub(crate) async fn fetch_all<'e, DB: Backend>(
        self,
        on: impl Into<On<'e, DB>>,
    ) -> StoreResult<Vec<DB::Row>> {
        Ok(DB::fetch_all_assembled(on.into(), self).await?)
    }

    /// The SQL text, with `$1`, `$2`… for the values, and the values.
    fn render(self) -> (String, Vec<Arg>) {
        let mut text = String::new();
        let mut args = Vec::new();
        for part in self.parts {
            match part {
                Part::Sql(fragment) => text.push_str(fragment),
                Part::Value(value) => {
                    args.push(value);
                    text.push('$');
                    text.push_str(&args.len().to_string());
                }
            }
        }
        (text, args)
    }
}

/// A database the store can run on: it runs statements and its rows can
/// be read as [`StoredRow`]s. Every database sqlx drives with the column
/// types the store uses is one (the `impl` below says which bounds that takes).
pub(crate) trait Backend: Database<Row: StoredRow> {
    fn fetch_optional(
        on: On<'_, Self>,
        statement: Statement,
    ) -> impl Future<Output = sqlx::Result<Option<Self::Row>>> + Send;

    fn fetch_all(
        on: On<'_, Self>,
        statement: Statement,
    ) -> impl Future<Output = sqlx::Result<Vec<Self::Row>>> + Send;

    fn execute(
        on: On<'_, Self>,
        statement: Statement,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send;

    fn fetch_all_assembled(
        on: On<'_, Self>,
        statement: Assembled,
    ) -> impl Future<Output = sqlx::Result<Vec<Self::Row>>> + Send;

    /// Runs SQL of several statements and no placeholders (a migration).
    fn execute_script(
        on: On<'_, Self>,
        script: &'static str,
    ) -> impl Future<Output = sqlx::Result<()>> + Send;
}

impl<DB> Backend for DB
where
    DB: Database,
    DB::Row: StoredRow,
    DB::QueryResult: RowsAffected,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<f64>: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
{
    async fn fetch_optional(
        on: On<'_, Self>,
        statement: Statement,
    ) -> sqlx::Result<Option<DB::Row>> {
        let query = bound(statement.text, statement.args);
        match on {
            On::Pool(pool) => query.fetch_optional(pool).await,
            On::Connection(connection) => query.fetch_optional(connection).await,
        }
    }

    async fn fetch_all(on: On<'_, Self>, statement: Statement) -> sqlx::Result<Vec<DB::Row>> {
        let query = bound(statement.text, statement.args);
        match on {
            On::Pool(pool) => query.fetch_all(pool).await,
            On::Connection(connection) => query.fetch_all(connection).await,
        }
    }

    async fn execute(on: On<'_, Self>, statement: Statement) -> sqlx::Result<u64> {
        let query = bound(statement.text, statement.args);
        let done = match on {
            On::Pool(pool) => query.execute(pool).await?,
            On::Connection(connection) => query.execute(connection).await?,
        };
        Ok(RowsAffected::rows_affected(&done))
    }

    async fn fetch_all_assembled(
        on: On<'_, Self>,
        statement: Assembled,
    ) -> sqlx::Result<Vec<DB::Row>> {
        let (text, args) = statement.render();
        let query = bound(&text, args);
        match on {
            On::Pool(pool) => pool.fetch_all(query).await,
            On::Connection(connection) => connection.fetch_all(query).await,
        }
    }

    async fn execute_script(on: On<'_, Self>, script: &'static str) -> sqlx::Result<()> {
        let script = sqlx::raw_sql(script);
        match on {
            On::Pool(pool) => pool.execute(script).await?,
            On::Connection(connection) => connection.execute(script).await?,
        };
        Ok(())
    }
}

/// The sqlx query for a statement, its values bound.
fn bound<'q, DB>(text: &'q str, args: Vec<Arg>) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    DB: Database,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    args.into_iter()
        .fold(sqlx::query(text), |query, arg| match arg {
            Arg::Text(value) => query.bind(value),
            Arg::Int(value) => query.bind(value),
            Arg::Float(value) => query.bind(value),
            Arg::Bool(value) => query.bind(value),
        })
}

/// How many rows a statement changed: each sqlx backend says it through a
/// method of its own, not through a trait.
pub(crate) trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        self.rows_affected()
    }
}

type Column<T> = Result<T, StoreError>;

/// The column reads the record mappings need, for a row of any backend.
pub(crate) trait StoredRow {
    fn text(&self, column: &str) -> Column<String>;
    fn opt_text(&self, column: &str) -> Column<Option<String>>;
    fn int(&self, column: &str) -> Column<i64>;
    fn opt_int(&self, column: &str) -> Column<Option<i64>>;
    fn float(&self, column: &str) -> Column<f64>;
}

impl<R> StoredRow for R
where
    R: sqlx::Row,
    for<'i> &'i str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> Column<String> {
        Ok(self.try_get(column)?)
    }
    fn opt_text(&self, column: &str) -> Column<Option<String>> {
        Ok(self.try_get(column)?)
    }
    fn int(&self, column: &str) -> Column<i64> {
        Ok(self.try_get(column)?)
    }
    fn opt_int(&self, column: &str) -> Column<Option<i64>> {
        Ok(self.try_get(column)?)
    }
    fn float(&self, column: &str) -> Column<f64> {
        Ok(self.try_get(column)?)
    }
}
