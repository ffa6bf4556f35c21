//! `GET /v1/ws`: checks the Origin and any credentials (a bad token gets HTTP 401 and no
//! upgrade), answers the WebSocket handshake itself, and hands the upgraded connection
//! to the realtime layer.

use super::auth::{bearer, cookie_token, origin_allowed};
use super::error::{ApiError, error_response};
use crate::app::AppState;
use crate::realtime::{Credentials, accept_key, open_socket, serve_socket};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

/// Largest text message accepted (also across fragments); bigger ones close with 1009.
pub const MAX_FRAME: usize = 64 * 1024;

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// `GET /v1/ws`.
pub async fn upgrade(State(state): State<AppState>, mut request: Request) -> Response {
    let headers = request.headers();
    if headers.contains_key(header::ORIGIN) && !origin_allowed(headers, &state.http.allowed_origins) {
        return error_response(StatusCode::FORBIDDEN, "forbidden", "this Origin may not open a socket".into(), None);
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY).map(|k| k.as_bytes().to_vec());
    let is_upgrade = request.method() == Method::GET
        && has_token(headers, header::CONNECTION, "upgrade")
        && has_token(headers, header::UPGRADE, "websocket")
        && headers.get(header::SEC_WEBSOCKET_VERSION).is_some_and(|v| v == "13");
    let Some(key) = key.filter(|_| is_upgrade) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected a WebSocket upgrade (version 13)".into(),
            None,
        );
    };
    if headers.contains_key(header::SEC_WEBSOCKET_PROTOCOL) {
        // No subprotocol is defined; a browser that asked for one would fail the
        // handshake on an answer without it, so say why instead.
        return error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "WebSocket subprotocols are not supported: open the socket without one".into(),
            None,
        );
    }
    let token = match bearer(headers) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return ApiError(e).into_response(),
        None => cookie_token(headers),
    };
    let credentials = match token {
        Some(token) => match state.service.authenticate(&token).await {
            Ok(caller) => Credentials::Authenticated(caller),
            Err(e) => return ApiError(e).into_response(),
        },
        None => Credentials::Pending,
    };
    let on_upgrade = hyper::upgrade::on(&mut request);
    // The socket logs inside the upgrade request's span, with its request id.
    let socket = async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let (reader, writer) = open_socket(upgraded, MAX_FRAME);
                serve_socket(state, reader, writer, credentials).await;
            }
            Err(e) => tracing::debug!(error = %e, "the upgrade did not complete"),
        }
    };
    tokio::spawn(socket.instrument(tracing::Span::current()));
    let accept = HeaderValue::from_str(&accept_key(&key)).unwrap_or_else(|_| HeaderValue::from_static(""));
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = response.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    response
}
