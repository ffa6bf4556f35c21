//! `/v1/users`: register, profiles, password, account deletion, search.

use super::auth::Auth;
use super::error::{
    ApiResult, BadRequest, Conflict, Forbidden, ForbiddenOrWrongPassword, NotFound, PayloadTooLarge, RateLimited,
    SignedIn, StoreFailures,
};
use super::extract::{Json, Path, Query};
use super::sessions::login_response;
use crate::app::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chatter_core::UserId;
use chatter_core::model::User;
use chatter_core::paging::clamp_limit;
use chatter_core::protocol::AuthResponse;
use chatter_core::protocol::{
    ChangePasswordRequest, DeleteAccountRequest, RegisterRequest, UpdateProfileRequest, UserList, UserSearchQuery,
};
use chatter_core::service::RegisterInput;

/// Register (and log in)
///
/// Creates an account and a first session for it, and answers the user with a bearer
/// token. Needs no credentials. The username is lowercased, then must be 3-32 of
/// `[a-z0-9_.-]` and unique (409 `username_taken` otherwise; usernames of deleted
/// accounts are never reused). Password: 8-1024 characters, stored with Argon2id.
/// display_name: 1-64 after trimming, defaults to the username. device_name: 0-64 after
/// trimming. With `"cookie": true` the answer also sets the `chatter_session` cookie
/// (HttpOnly; SameSite=Strict; Path=/; Secure behind TLS), which can then authenticate
/// later calls instead of the bearer header. Password hashing runs on a bounded pool:
/// when it is saturated the call answers 429 `rate_limited` with `Retry-After`. Field
/// names are snake_case; ids are opaque strings; times are RFC 3339 UTC. Text lengths
/// count Unicode scalar values, and text fields reject control characters other than
/// newline and tab (single-line fields reject those too).
#[utoipa::path(
    post,
    path = "/v1/users",
    operation_id = "registerUser",
    tag = "Users",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in.", body = AuthResponse),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        StoreFailures
    ),
    security(())
)]
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

/// My profile
///
/// Answers the caller's own user.
#[utoipa::path(
    get,
    path = "/v1/users/me",
    operation_id = "getMe",
    tag = "Users",
    responses(
        (status = 200, description = "The caller.", body = User),
        SignedIn
    )
)]
pub async fn me(Auth(caller): Auth) -> axum::Json<User> {
    axum::Json(caller.user)
}

/// Update my profile
///
/// Changes the fields given. display_name: 1-64 after trimming, one line. bio: 0-500
/// after trimming, newline and tab allowed. avatar_url: an `https://` URL of at most
/// 2048 characters, or empty to clear it. A value breaking a rule is 400
/// `validation_failed` with its field. When authenticated by the `chatter_session`
/// cookie, this write needs an `Origin` the server accepts, else 403 `forbidden`.
#[utoipa::path(
    patch,
    path = "/v1/users/me",
    operation_id = "updateMe",
    tag = "Users",
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "The updated user.", body = User),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        SignedIn
    )
)]
pub async fn update_me(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Json(req): Json<UpdateProfileRequest>,
) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(state.service.update_profile(&caller, req).await?))
}

/// Change my password
///
/// Re-authenticates with `old_password` (wrong: 403 `wrong_password`), then sets
/// `new_password` (8-1024 characters; else 400 `validation_failed` with field
/// `new_password`). Every other session of the user is revoked; the calling session
/// keeps working. Password hashing runs on a bounded pool: when it is saturated the
/// call answers 429 `rate_limited` with `Retry-After`. When authenticated by the
/// `chatter_session` cookie, this write needs an `Origin` the server accepts, else 403
/// `forbidden`.
#[utoipa::path(
    post,
    path = "/v1/users/me/password",
    operation_id = "changePassword",
    tag = "Users",
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Done. No body."),
        (status = 400, response = BadRequest),
        (status = 403, response = ForbiddenOrWrongPassword),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        SignedIn
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Json(req): Json<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    state.service.change_password(&caller, &req.old_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete my account
///
/// Re-authenticates with the password (wrong: 403 `wrong_password`), then deletes the
/// account: every session is revoked (their sockets close with 4001), the user leaves
/// every group (members see `chat.member_left` with reason `deleted`) but stays in
/// direct chats, which keep their two members for ever, and the profile is gone from
/// search. The id and username stay reserved for ever (never reused); the user then
/// shows display_name "Deleted user" and `deleted: true`. Messages are kept, as sent by
/// the deleted user. Password hashing runs on a bounded pool: when it is saturated the
/// call answers 429 `rate_limited` with `Retry-After`. When authenticated by the
/// `chatter_session` cookie, this write needs an `Origin` the server accepts, else 403
/// `forbidden`.
#[utoipa::path(
    delete,
    path = "/v1/users/me",
    operation_id = "deleteMe",
    tag = "Users",
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Done. No body."),
        (status = 400, response = BadRequest),
        (status = 403, response = ForbiddenOrWrongPassword),
        (status = 413, response = PayloadTooLarge),
        (status = 429, response = RateLimited),
        SignedIn
    )
)]
pub async fn delete_me(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Json(req): Json<DeleteAccountRequest>,
) -> ApiResult<StatusCode> {
    state.service.delete_account(&caller, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Search users
///
/// Finds users whose username or display name starts with `q` (case-insensitive; `q` at
/// least 2 characters, else 400 `validation_failed` with field `q`). Deleted accounts
/// are left out. Paged: `limit` (default 50, clamped to 1..200) and `cursor`; the
/// answer's `next_cursor` is an opaque string, null at the end; a malformed cursor is
/// 400 `validation_failed` with field `cursor`.
#[utoipa::path(
    get,
    path = "/v1/users",
    operation_id = "searchUsers",
    tag = "Users",
    params(
        UserSearchQuery
    ),
    responses(
        (status = 200, description = "A page of users.", body = UserList),
        (status = 400, response = BadRequest),
        SignedIn
    )
)]
pub async fn search(
    State(state): State<AppState>,
    Auth(_): Auth,
    Query(q): Query<UserSearchQuery>,
) -> ApiResult<axum::Json<UserList>> {
    let page = state.service.search_users(q.q.as_deref(), clamp_limit(q.limit), q.cursor.as_deref()).await?;
    Ok(axum::Json(UserList { users: page.items, next_cursor: page.next_cursor }))
}

/// A user's profile
///
/// Answers any user by id, including a deleted account (display_name "Deleted user",
/// `deleted: true`), so that old messages can still show their sender. Unknown id: 404.
#[utoipa::path(
    get,
    path = "/v1/users/{id}",
    operation_id = "getUser",
    tag = "Users",
    params(
        ("id" = String, Path, description = "The user's id.")
    ),
    responses(
        (status = 200, description = "The user.", body = User),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn get(State(state): State<AppState>, Auth(_): Auth, Path(id): Path<String>) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(state.service.user(&UserId::new(id)).await?))
}
