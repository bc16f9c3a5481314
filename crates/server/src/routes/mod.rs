//! The HTTP routes, one module per resource.

pub mod admin;
pub mod artifacts;
pub mod auth;
pub mod deliveries;
pub mod events;
pub mod jobs;
pub mod links;
pub mod operations;
pub mod pipelines;
pub mod presign;
pub mod uploads;
pub mod webhooks;
