//! `/v1/sessions`: log in, list, log out, revoke.

use super::auth::Auth;
use super::cookie;
use super::error::{ApiResult, BadRequest, Forbidden, NotFound, PayloadTooLarge, RateLimited, SignedIn};
use super::extract::{Json, Path};
use crate::app::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chatter_core::SessionId;
use chatter_core::protocol::{AuthResponse, LoginRequest, SessionList};
use chatter_core::service::Login;

/// The 201 answer to register and login, with the cookie when asked for.
pub fn login_response(state: &AppState, headers: &HeaderMap, login: Login, set_cookie: bool) -> Response {
    let body = AuthResponse { user: login.user, token: login.token.clone(), session_id: login.session.id };
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if set_cookie {
        // The server expires idle sessions; the browser keeps the cookie as long as it
        // may (400 days), so an active user is never logged out by the cookie's age.
        let max_age = 400 * 86_400;
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cookie::set(&login.token, max_age, cookie::secure(state, headers)));
    }
    response
}

/// Log in
///
/// Checks username (lowercased) and password and opens a new session. Needs no
/// credentials. An unknown username and a wrong password give the same 401
/// `unauthenticated` in about the same time. device_name: 0-64 after trimming. With
/// `"cookie": true` the answer also sets the `chatter_session` cookie (HttpOnly;
/// SameSite=Strict; Path=/; Secure behind TLS). Sessions expire after 30 days without
/// use (configurable). Password hashing runs on a bounded pool: when it is saturated
/// the call answers 429 `rate_limited` with `Retry-After`.
#[utoipa::path(
    post,
    path = "/v1/sessions",
    operation_id = "login",
    tag = "Sessions",
    request_body = LoginRequest,
    responses(
        (status = 201, description = "Logged in.", body = AuthResponse),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        SignedIn
    ),
    security(())
)]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let login = state.service.login(&req.username, &req.password, req.device_name.as_deref()).await?;
    Ok(login_response(&state, &headers, login, req.cookie.unwrap_or(false)))
}

/// My sessions
///
/// Lists the caller's live sessions; `current` marks the one making this request.
#[utoipa::path(
    get,
    path = "/v1/sessions",
    operation_id = "listSessions",
    tag = "Sessions",
    responses(
        (status = 200, description = "The caller's sessions.", body = SessionList),
        SignedIn
    )
)]
pub async fn list(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<axum::Json<SessionList>> {
    Ok(axum::Json(SessionList { sessions: state.service.sessions(&caller).await? }))
}

/// Log out
///
/// Revokes the calling session: its token stops working at once and its WebSocket
/// connections close with 4001. Also clears the `chatter_session` cookie. When
/// authenticated by the `chatter_session` cookie, this write needs an `Origin` the
/// server accepts, else 403 `forbidden`.
#[utoipa::path(
    delete,
    path = "/v1/sessions/current",
    operation_id = "logout",
    tag = "Sessions",
    responses(
        (status = 204, description = "Logged out."),
        (status = 403, response = Forbidden),
        SignedIn
    )
)]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, Auth(caller): Auth) -> ApiResult<Response> {
    state.service.logout(&caller).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie::clear(cookie::secure(&state, &headers)));
    Ok(response)
}

/// Revoke one of my sessions
///
/// Revokes one of the caller's own sessions (its token stops working at once, its
/// sockets close with 4001). Another user's session, or an unknown id, is 404. When
/// authenticated by the `chatter_session` cookie, this write needs an `Origin` the
/// server accepts, else 403 `forbidden`.
#[utoipa::path(
    delete,
    path = "/v1/sessions/{id}",
    operation_id = "deleteSession",
    tag = "Sessions",
    params(
        ("id" = String, Path, description = "The session's id (one of the caller's own sessions).")
    ),
    responses(
        (status = 204, description = "Done. No body."),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.service.revoke_session(&caller, &SessionId::new(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
