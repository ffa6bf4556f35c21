//! The `chatter_session` cookie.

use axum::http::{HeaderMap, HeaderValue, header};

/// The cookie's name.
pub const NAME: &str = "chatter_session";

/// `Set-Cookie` value that stores `token` for `max_age_secs`.
pub fn set(token: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!("{NAME}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` value that removes the cookie.
pub fn clear(secure: bool) -> HeaderValue {
    let value = if secure {
        "chatter_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure"
    } else {
        "chatter_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    };
    HeaderValue::from_static(value)
}

/// Whether the cookie gets `Secure`: when configured, or when the request came over
/// TLS ended at a proxy (`X-Forwarded-Proto: https`).
pub fn secure(state: &crate::app::AppState, headers: &HeaderMap) -> bool {
    state.http.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The session token in the request's cookies, if any.
pub fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; chatter_session=tok; b=2"));
        assert_eq!(token(&h).as_deref(), Some("tok"));
        h.insert(header::COOKIE, HeaderValue::from_static("chatter_session="));
        assert_eq!(token(&h), None);
    }
}
