//! The parts of the OpenAPI document that no handler states: title, tags and
//! the bearer security scheme.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kinoflow",
        description = "Asynchronous video and data analysis: upload, queue, progress, cancel, results."
    ),
    tags(
        (name = "auth", description = "Accounts, tokens and API keys"),
        (name = "uploads", description = "Input files"),
        (name = "jobs", description = "Analysis jobs and their events"),
        (name = "artifacts", description = "Job results"),
        (name = "webhooks", description = "Webhook endpoints, signing secrets and each job's deliveries"),
        (name = "pipelines", description = "The analyses on offer"),
        (name = "admin", description = "Worker processes and the queue, for administrators"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "biomechanics", description = "The original biomechanics server's API, at its own paths; errors as {\"detail\": …}"),
        (name = "frame-extraction", description = "The original frame-extraction service's API, at its own paths; errors of its video routes as {\"detail\": …}"),
        (name = "production-variables", description = "The production-variables service's API, at its own paths; errors as {\"detail\": …}"),
        (name = "deepemotion", description = "The DeepEmotion API, under /api/v2; errors as {\"error\": \"…\"}, live progress over Socket.IO at /socket.io"),
        (name = "shortsai", description = "ShortsAI's API, under /api: projects, scenes, the generation workflow, AI, renders and assets; errors as {\"error\": \"…\"}")
    )
)]
struct ApiDoc;

pub fn base() -> OpenApiDoc {
    ApiDoc::openapi()
}

/// Adds the security scheme the handlers refer to.
pub fn finish(mut api: OpenApiDoc) -> OpenApiDoc {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT or API key")
                .description(Some(
                    "An access token from /v1/auth/token, or an API key (kf_…)",
                ))
                .build(),
        ),
    );
    api
}
