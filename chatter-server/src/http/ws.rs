//! `GET /v1/ws`: checks the Origin and any credentials at the upgrade (a bad token gets
//! HTTP 401 and no upgrade), then hands the socket to the realtime layer.

use super::auth::{bearer, cookie_token, origin_allowed};
use super::error::{ApiError, error_response};
use crate::app::AppState;
use crate::realtime::{Credentials, serve_socket};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Largest text frame (and message) accepted; bigger ones close the socket with 1009.
pub const MAX_FRAME: usize = 64 * 1024;

/// `GET /v1/ws`.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if headers.contains_key(header::ORIGIN) && !origin_allowed(&headers, &state.config.allowed_origins) {
        return error_response(StatusCode::FORBIDDEN, "forbidden", "this Origin may not open a socket".into(), None);
    }
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(rejection) => {
            return error_response(StatusCode::BAD_REQUEST, "invalid_request", rejection.body_text(), None);
        }
    };
    let token = match bearer(&headers) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return ApiError(e).into_response(),
        None => cookie_token(&headers),
    };
    let credentials = match token {
        Some(token) => match state.service.authenticate(&token).await {
            Ok(caller) => Credentials::Authenticated(caller),
            Err(e) => return ApiError(e).into_response(),
        },
        None => Credentials::Pending,
    };
    upgrade
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| serve_socket(state, socket, credentials))
}
