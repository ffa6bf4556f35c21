//! Authentication of requests: the bearer header, or the session cookie (whose writes
//! must come from an accepted Origin).

use super::cookie;
pub use super::cookie::token as cookie_token;
use super::error::ApiError;
use super::extract::Rejection;
use crate::app::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use chatter_core::Error;
use chatter_core::service::Caller;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

/// The bearer token of a request: `None` without an `Authorization` header, an error
/// when the header is not a usable bearer token.
pub fn bearer(headers: &HeaderMap) -> Option<Result<String, Error>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let parsed = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or(Error::Unauthenticated);
    Some(parsed)
}

/// Whether a cookie-authenticated write comes from an Origin the server accepts: its
/// own (the Host it was reached at) or a configured one.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return false;
    };
    if allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (host, origin.split_once("://")) {
        (Some(host), Some((scheme, rest))) => (scheme == "http" || scheme == "https") && rest == host,
        _ => false,
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = match bearer(&parts.headers) {
            Some(t) => t.map_err(ApiError)?,
            None => {
                let token = cookie::token(&parts.headers).ok_or(ApiError(Error::Unauthenticated))?;
                let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                if !safe && !origin_allowed(&parts.headers, &state.http.allowed_origins) {
                    return Err(
                        ApiError(Error::forbidden("a write authenticated by cookie needs an accepted Origin")).into()
                    );
                }
                token
            }
        };
        let caller = state.service.authenticate(&token).await.map_err(ApiError)?;
        Ok(Self(caller))
    }
}
