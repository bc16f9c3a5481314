//! The dashboard's stylesheet and script, compiled into the binary so that
//! the server needs no files beside it and the browser nothing from a CDN.
//! Their URLs carry a digest of their content, so they are cached forever
//! and a new release is fetched at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 2] = [
    Asset {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("static/dashboard.css"),
    },
    Asset {
        name: "dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("static/dashboard.js"),
    },
];

/// Each asset's version: the start of its SHA-256.
static VERSIONS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| hex::encode(&Sha256::digest(asset.body.as_bytes())[..6]))
        .collect()
});

/// The URL of asset `name`, with its version.
pub fn url(name: &str) -> String {
    let version = ASSETS
        .iter()
        .position(|asset| asset.name == name)
        .map(|index| VERSIONS[index].as_str())
        .unwrap_or_default();
    format!("/assets/{name}?v={version}")
}

/// Serves an embedded asset.
pub async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.body,
    )
        .into_response()
}
