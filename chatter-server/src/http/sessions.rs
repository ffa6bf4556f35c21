//! `/v1/sessions`: log in, list, log out, revoke.

use super::auth::Auth;
use super::cookie;
use super::error::ApiResult;
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

/// `POST /v1/sessions`.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let login = state.service.login(&req.username, &req.password, req.device_name.as_deref()).await?;
    Ok(login_response(&state, &headers, login, req.cookie.unwrap_or(false)))
}

/// `GET /v1/sessions`.
pub async fn list(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<axum::Json<SessionList>> {
    Ok(axum::Json(SessionList { sessions: state.service.sessions(&caller).await? }))
}

/// `DELETE /v1/sessions/current`: logs out and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, Auth(caller): Auth) -> ApiResult<Response> {
    state.service.logout(&caller).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie::clear(cookie::secure(&state, &headers)));
    Ok(response)
}

/// `DELETE /v1/sessions/{id}`: revokes one of the caller's sessions.
pub async fn revoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.service.revoke_session(&caller, &SessionId::new(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
