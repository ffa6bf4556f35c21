//! Cross-origin access for browser apps served from another origin (`--allowed-origin`):
//! preflights answered, the bearer header and credentials allowed for exactly those
//! origins, never a wildcard. With no allowed origin, no CORS header is ever sent.

use axum::http::{HeaderName, HeaderValue, Method, header};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The CORS layer for `allowed` origins (`scheme://host[:port]`), or none.
pub fn layer(allowed: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> =
        allowed.iter().filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()).collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PATCH, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-request-id")])
            .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
            .allow_credentials(true)
            .max_age(PREFLIGHT_MAX_AGE),
    )
}
