//! `/v1/users`: register, profiles, password, account deletion, search.

use super::auth::Auth;
use super::error::ApiResult;
use super::extract::{Json, Path, Query};
use super::sessions::login_response;
use crate::app::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chatter_core::UserId;
use chatter_core::model::User;
use chatter_core::paging::clamp_limit;
use chatter_core::protocol::{
    ChangePasswordRequest, DeleteAccountRequest, RegisterRequest, SearchQuery, UpdateProfileRequest, UserList,
};
use chatter_core::service::RegisterInput;

/// `POST /v1/users`: registers and logs in.
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<RegisterRequest>,
) -> ApiResult<Response> {
    let login = state
        .service
        .register(RegisterInput {
            username: req.username,
            password: req.password,
            display_name: req.display_name,
            device_name: req.device_name,
        })
        .await?;
    Ok(login_response(&state, &headers, login, req.cookie.unwrap_or(false)))
}

/// `GET /v1/users/me`.
pub async fn me(Auth(caller): Auth) -> axum::Json<User> {
    axum::Json(caller.user)
}

/// `PATCH /v1/users/me`.
pub async fn update_me(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Json(req): Json<UpdateProfileRequest>,
) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(state.service.update_profile(&caller, req).await?))
}

/// `POST /v1/users/me/password`.
pub async fn change_password(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Json(req): Json<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    state.service.change_password(&caller, &req.old_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/users/me`.
pub async fn delete_me(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Json(req): Json<DeleteAccountRequest>,
) -> ApiResult<StatusCode> {
    state.service.delete_account(&caller, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/users?q=`.
pub async fn search(
    State(state): State<AppState>,
    Auth(_): Auth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<axum::Json<UserList>> {
    let page = state.service.search_users(q.q.as_deref(), clamp_limit(q.limit), q.cursor.as_deref()).await?;
    Ok(axum::Json(UserList { users: page.items, next_cursor: page.next_cursor }))
}

/// `GET /v1/users/{id}`.
pub async fn get(State(state): State<AppState>, Auth(_): Auth, Path(id): Path<String>) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(state.service.user(&UserId::new(id)).await?))
}
