//! A server error is logged once, by the middleware, with its cause; the
//! client sees only the generic message.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;

use super::*;

/// Log lines written by a test's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Answers `GET /` with `handler`'s error and returns the body and the log.
fn answer_and_log(error: fn() -> ApiError) -> (StatusCode, String, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let (status, body) = tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let app = Router::new()
                .route("/", get(move || async move { error() }))
                .layer(axum::middleware::from_fn(log_server_errors));
            let request = Request::get("/").body(Body::empty()).expect("a request");
            let response = app.oneshot(request).await.expect("an answer");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .expect("a body");
            (status, String::from_utf8_lossy(&body).into_owned())
        })
    });
    let log = String::from_utf8_lossy(&captured.0.lock().expect("the log")).into_owned();
    (status, body, log)
}

#[test]
fn a_server_error_is_logged_once_with_its_cause_and_not_sent() {
    let (status, body, log) = answer_and_log(|| ApiError::internal("disk on fire"));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.contains("disk on fire"), "{body}");
    assert!(body.contains("\"internal\""), "{body}");
    assert_eq!(log.matches("disk on fire").count(), 1, "{log}");
}

#[test]
fn an_unavailable_dependency_is_logged_with_its_cause() {
    let (status, body, log) =
        answer_and_log(|| ApiError::unavailable("the database is unavailable", "pool timed out"));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("\"unavailable\""), "{body}");
    assert_eq!(log.matches("pool timed out").count(), 1, "{log}");
}

#[test]
fn a_client_error_is_not_logged() {
    let (status, _, log) = answer_and_log(|| ApiError::not_found("job"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(log.is_empty(), "{log}");
}
