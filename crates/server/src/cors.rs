//! Cross-origin requests from browser clients (the original services' web
//! front ends served from another origin): allowed only from the origins the
//! operator lists, on every route, errors included. With none listed, no
//! CORS header is ever sent.

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE_S: u64 = 600;

/// Checks that `origin` is an origin as browsers send it: `http` or
/// `https`, a host, an optional port, nothing after.
pub fn parse_origin(origin: &str) -> Result<HeaderValue, String> {
    let refused = || {
        format!(
            "{origin:?} is not an origin: give scheme://host[:port], e.g. http://localhost:5173"
        )
    };
    let url = url::Url::parse(origin).map_err(|_| refused())?;
    let bare = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && !origin.ends_with('/');
    if !bare {
        return Err(refused());
    }
    // As browsers send it: a lower-case host, no default port.
    HeaderValue::from_str(&url.origin().ascii_serialization()).map_err(|_| refused())
}

/// The CORS layer for `origins`, or `None` when there are none.
pub fn layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::RANGE,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([
                header::CONTENT_RANGE,
                header::CONTENT_DISPOSITION,
                header::LOCATION,
                header::ETAG,
            ])
            .max_age(std::time::Duration::from_secs(PREFLIGHT_MAX_AGE_S)),
    )
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn only_bare_origins_are_accepted() {
        assert!(parse_origin("http://localhost:5173").is_ok());
        assert!(parse_origin("https://app.example.com").is_ok());
        assert_eq!(
            parse_origin("https://App.Example.com:443").unwrap(),
            "https://app.example.com"
        );
        for bad in [
            "localhost:5173",
            "http://localhost:5173/",
            "https://example.com/app",
            "ftp://example.com",
            "*",
            "http://user:pw@example.com",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
