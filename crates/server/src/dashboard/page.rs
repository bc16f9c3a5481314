//! The frame every page shares: head, navigation, the CSRF token for the
//! page's script, and the security headers.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::assets;
use super::browser::SignedIn;
use super::form::CSRF_FIELD;

/// What the browser may load: only this server's own assets and media; the
/// page's script may also send a file to a presigned storage URL, which
/// with S3 is another origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
     media-src 'self' blob:; connect-src *; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// A whole page answered with `status`.
pub fn respond(
    status: StatusCode,
    title: &str,
    signed_in: Option<&SignedIn>,
    body: Markup,
) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(signed_in) = signed_in {
                    meta name="csrf-token" content=(signed_in.csrf);
                }
                title { (title) " · kinoflow" }
                link rel="stylesheet" href=(assets::url("dashboard.css"));
                script src=(assets::url("dashboard.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                (navigation(signed_in))
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    let mut response = (status, markup).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A page answered 200.
pub fn ok(title: &str, signed_in: Option<&SignedIn>, body: Markup) -> Response {
    respond(StatusCode::OK, title, signed_in, body)
}

/// A page that says what went wrong.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    respond(
        status,
        title,
        None,
        html! {
            p.error role="alert" { (message) }
            p { a href="/" { "Back to kinoflow" } }
        },
    )
}

/// The page of an API error; a server error is logged with its cause.
pub fn api_error(error: &crate::error::ApiError) -> Response {
    if error.status().is_server_error() {
        tracing::error!(error = ?error, "a dashboard page failed");
    }
    error_page(error.status(), &error.describe())
}

/// The hidden field that carries a form's CSRF token.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

fn navigation(signed_in: Option<&SignedIn>) -> Markup {
    html! {
        header.top {
            a.brand href="/" { "kinoflow" }
            nav aria-label="Main" {
                @if let Some(signed_in) = signed_in {
                    a href="/jobs" { "Jobs" }
                    a href="/new" { "New analysis" }
                    @if signed_in.user.is_admin() {
                        a href="/operations" { "Operations" }
                    }
                    a href="/settings" { "Settings" }
                    form.inline method="post" action="/signout" {
                        (csrf_field(&signed_in.csrf))
                        button.link type="submit" { "Sign out " span.who { (signed_in.user.email) } }
                    }
                } @else {
                    a href="/signin" { "Sign in" }
                    a href="/signup" { "Sign up" }
                }
            }
        }
    }
}

/// A byte count as people read it.
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// A time (ms since the epoch) as UTC, to the second.
pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1500), "1.5 KB");
        assert_eq!(size(2_500_000), "2.5 MB");
    }
}
