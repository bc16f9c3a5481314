//! The production-variables service's API (a FastAPI service) at its own
//! paths, over kinoflow's `relevance` pipeline: a machine is a row of a
//! table of its own, its training a `relevance` job on the uploaded CSV,
//! its ranking that job's, in the words its web client reads. The original
//! had no authentication: these routes take a token, or none when the
//! operator allows anonymous callers; the trainer's webhook takes its own
//! secret. The relevance service that the original backend called is
//! served too (`models`), with its callbacks (`callbacks`).

mod callbacks;
mod machines;
mod models;
mod ranking;
mod records;
mod training;
mod vocabulary;

pub use callbacks::announce_trainings;

use axum::response::{IntoResponse, Response};
use kinoflow_engine::store::Store;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{CompatError, DetailBody};
use super::query::query_param;
use crate::error::ApiError;
use crate::state::AppState;
use vocabulary::Invalid;

/// The pipeline behind every training.
const PIPELINE: &str = "relevance";

/// The service's errors: FastAPI's `{"detail": "…"}`, or its validation
/// list.
pub enum ProductionError {
    Api(ApiError),
    Invalid(Box<Invalid>),
}

impl From<ApiError> for ProductionError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<Invalid> for ProductionError {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(Box::new(invalid))
    }
}

impl IntoResponse for ProductionError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => CompatError::<DetailBody>::from(error).into_response(),
            Self::Invalid(invalid) => invalid.into_response(),
        }
    }
}

/// The service's routes; each answers with and without its trailing slash.
pub fn router() -> OpenApiRouter<AppState> {
    let small = OpenApiRouter::new()
        .routes(routes!(machines::create, machines::list))
        .routes(routes!(
            machines::create_unslashed,
            machines::list_unslashed
        ))
        .routes(routes!(machines::get, machines::delete))
        .routes(routes!(models::create))
        .routes(routes!(models::create_slashed))
        .routes(routes!(models::delete))
        .routes(routes!(ranking::ranking))
        .routes(routes!(ranking::ranking_unslashed))
        .routes(routes!(training::webhook))
        .routes(routes!(training::webhook_unslashed));
    let streamed = OpenApiRouter::new()
        .routes(routes!(training::train))
        .routes(routes!(training::train_unslashed));
    super::service::<DetailBody>(streamed, small)
}

/// Creates or updates the service's table in the store's database.
pub async fn prepare(store: &dyn Store) -> anyhow::Result<()> {
    store.migrate_extension(&records::EXTENSION).await?;
    Ok(())
}

/// The integer query parameter `name` of `query`: 422 in FastAPI's shape
/// when it is missing or not a number.
fn integer_query(query: Option<&str>, name: &'static str) -> Result<i64, ProductionError> {
    let value = query_param(query, name).ok_or(Invalid::missing(["query", name]))?;
    integer_at(&value, ["query", name])
}

/// `value` as an integer id; 422 in FastAPI's shape, at `loc`, when it is not one.
fn integer_at(value: &str, loc: [&'static str; 2]) -> Result<i64, ProductionError> {
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| Invalid::not_an_integer(loc, value).into())
}

/// The text query parameter `name` of `query`: 422 when it is missing.
fn text_query(query: Option<&str>, name: &'static str) -> Result<String, ProductionError> {
    query_param(query, name).ok_or_else(|| Invalid::missing(["query", name]).into())
}
