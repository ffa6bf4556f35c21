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
use chatter_core::protocol::ErrorBody;
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

/// Whether a `Sec-WebSocket-Key` is what RFC 6455 asks for: 16 random bytes in base64.
fn is_nonce(key: &[u8]) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(key).is_ok_and(|nonce| nonce.len() == 16)
}

/// Open the realtime WebSocket
///
/// Upgrades to a WebSocket (JSON text frames, one object each, with a `type`).
/// Credentials: the bearer header or the `chatter_session` cookie at the upgrade (an
/// invalid or revoked one gets HTTP 401 and no upgrade), or, with neither, a first
/// frame `{"type":"auth","token"}` within 5 s (else close 4001). A browser `Origin`
/// must be the server's own or one given with `--allowed-origin` (else HTTP 403). After
/// `ready {user_id, session_id, heartbeat_ms}` the socket receives every chat event of
/// the user's chats (each with `chat_id` and a gap-free per-chat `event_seq`),
/// `chat.added`/`chat.removed`, `typing`, `read` and `presence`. Commands: `resume
/// {chats: {chat_id: last_event_seq}}` (replays what is missing, or `chat.reset` past
/// 1,000 events, then `resumed`), `send {ref, chat_id, text, client_id, reply_to?}`
/// (answered by one `message.created` with the same `ref`, or `error`), `typing
/// {chat_id}`, `read {chat_id, seq}`, `ping`. The server pings every `heartbeat_ms` and
/// closes a peer that misses two. Queued live events of a new socket wait for its first
/// command (or 500 ms), so a `resume` sent first is replayed before them; `resume
/// {"chats": {}}` starts live events at once. Close codes: 4001 not authenticated or
/// session revoked, 1002 protocol error, 1007 text that is not UTF-8, 4000 missed
/// heartbeats, 4008 slow consumer (reconnect and resume), 1009 frame over 64 KiB, 1001
/// server shutting down, 4029 too many connections. Bad frames get an `error` frame and
/// the socket stays open.
#[utoipa::path(
    get,
    path = "/v1/ws",
    operation_id = "openSocket",
    tag = "Realtime",
    params(
        ("Upgrade" = String, Header, pattern = "^[Ww][Ee][Bb][Ss][Oo][Cc][Kk][Ee][Tt]$", description = "`websocket`."),
        ("Connection" = String, Header, pattern = "^[Uu][Pp][Gg][Rr][Aa][Dd][Ee]$", description = "`Upgrade`."),
        ("Sec-WebSocket-Version" = String, Header, pattern = "^13$", description = "`13`."),
        ("Sec-WebSocket-Key" = String, Header, pattern = "^[A-Za-z0-9+/]{21}[AQgw]==$", description = "A random 16-byte nonce, base64-encoded (RFC 6455).")
    ),
    security(("bearer" = []), ("cookie" = []), ()),
    responses(
        (status = 101, description = "Switching protocols: the socket is open."),
        (status = 400, description = "Not a WebSocket upgrade request.", body = ErrorBody),
        (status = 401, description = "The token or cookie is invalid, expired or revoked: no upgrade.", body = ErrorBody),
        (status = 403, description = "The Origin is not accepted.", body = ErrorBody)
    )
)]
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
    let Some(key) = key.filter(|k| is_upgrade && is_nonce(k)) else {
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
