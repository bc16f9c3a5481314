//! What the compatible APIs' errors share: kinoflow's [`ApiError`] inside,
//! answered in the body shape of the framework the original service was
//! built with. Each API names its own error type over one of these shapes.
//! A caller refused for their token (401) is answered before any adapter
//! runs, in kinoflow's own `{"error": …}`.

use std::marker::PhantomData;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{plain_error, ApiError};

/// The body of an error in one framework's shape.
pub trait ErrorShape: Serialize {
    fn from_message(message: String) -> Self;
}

/// FastAPI's error body: `{"detail": "…"}`.
#[derive(Serialize, ToSchema)]
pub struct DetailBody {
    /// What went wrong, in words.
    detail: String,
}

impl ErrorShape for DetailBody {
    fn from_message(detail: String) -> Self {
        Self { detail }
    }
}

/// The body of errors of Flask and Next.js services: `{"error": "…"}`.
#[derive(Serialize, ToSchema)]
pub struct MessageBody {
    /// What went wrong, in words.
    error: String,
}

impl ErrorShape for MessageBody {
    fn from_message(error: String) -> Self {
        Self { error }
    }
}

/// An error answered with body `B`, its status kinoflow's.
pub struct CompatError<B>(ApiError, PhantomData<B>);

impl<B> From<ApiError> for CompatError<B> {
    fn from(error: ApiError) -> Self {
        Self(error, PhantomData)
    }
}

impl<B: ErrorShape> IntoResponse for CompatError<B> {
    fn into_response(self) -> Response {
        let body = B::from_message(self.0.describe());
        self.0.respond_with(body)
    }
}

/// Middleware: errors that axum answers itself, in plain text, get body `B`
/// too.
pub async fn plain_errors_as<B: ErrorShape>(request: Request, next: Next) -> Response {
    match plain_error(next.run(request).await).await {
        Ok(error) => CompatError::<B>::from(error).into_response(),
        Err(response) => response,
    }
}
