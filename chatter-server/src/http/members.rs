//! `/v1/chats/{id}/members`: list, add, change role, remove.

use super::auth::Auth;
use super::error::{ApiResult, BadRequest, Forbidden, NotFound, PayloadTooLarge, SignedIn};
use super::extract::{Json, Path, Query};
use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatter_core::paging::clamp_limit;
use chatter_core::protocol::{AddMemberRequest, MemberList, MemberView, PageQuery, SetRoleRequest};
use chatter_core::store::Created;
use chatter_core::{ChatId, UserId};

/// List members
///
/// Lists the chat's members with their profile, role and join time. Anyone who may see
/// the chat may list them (anyone signed in for a public group; members otherwise, else
/// 404). Paged: `limit` (default 50, clamped to 1..200) and `cursor`; the answer's
/// `next_cursor` is an opaque string, null at the end; a malformed cursor is 400
/// `validation_failed` with field `cursor`.
#[utoipa::path(
    get,
    path = "/v1/chats/{id}/members",
    operation_id = "listMembers",
    tag = "Members",
    params(
        ("id" = String, Path, description = "The chat's id."),
        PageQuery
    ),
    responses(
        (status = 200, description = "A page of members.", body = MemberList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<MemberList>> {
    let page = state.service.members(&caller, &ChatId::new(id), clamp_limit(q.limit), q.cursor.as_deref()).await?;
    Ok(axum::Json(MemberList {
        members: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Add a member
///
/// Adds a user to a group as a plain member: 201 with the new member, or 200 with the
/// member when the user already is one. Owner and admins only (others: 403
/// `forbidden`). An unknown user is 404 `not_found` with field `user_id`. A direct chat
/// cannot have members added: 400 `invalid_request`. The new member sees the whole
/// history. When authenticated by the `chatter_session` cookie, this write needs an
/// `Origin` the server accepts, else 403 `forbidden`.
#[utoipa::path(
    post,
    path = "/v1/chats/{id}/members",
    operation_id = "addMember",
    tag = "Members",
    request_body = AddMemberRequest,
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 200, description = "Already a member.", body = MemberView),
        (status = 201, description = "Added.", body = MemberView),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        SignedIn
    )
)]
pub async fn add(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(req): Json<AddMemberRequest>,
) -> ApiResult<(StatusCode, axum::Json<MemberView>)> {
    Ok(match state.service.add_member(&caller, &ChatId::new(id), &req.user_id).await? {
        Created::New(m) => (StatusCode::CREATED, axum::Json(m.into())),
        Created::Existing(m) => (StatusCode::OK, axum::Json(m.into())),
    })
}

/// Change a member's role
///
/// Sets a member's role to `admin` or `member` (any other value: 400
/// `validation_failed`). Only the owner may change roles (others: 403 `forbidden`). The
/// owner's own role cannot be changed (400). A direct chat has no roles: 400
/// `invalid_request`. A user who is not a member: 404. When authenticated by the
/// `chatter_session` cookie, this write needs an `Origin` the server accepts, else 403
/// `forbidden`.
#[utoipa::path(
    patch,
    path = "/v1/chats/{id}/members/{user_id}",
    operation_id = "updateMember",
    tag = "Members",
    request_body = SetRoleRequest,
    params(
        ("id" = String, Path, description = "The chat's id."),
        ("user_id" = String, Path, description = "The member's user id.")
    ),
    responses(
        (status = 200, description = "The member with the new role.", body = MemberView),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        SignedIn
    )
)]
pub async fn set_role(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
    Json(req): Json<SetRoleRequest>,
) -> ApiResult<axum::Json<MemberView>> {
    let entry = state.service.set_role(&caller, &ChatId::new(id), &UserId::new(user_id), &req.role).await?;
    Ok(axum::Json(entry.into()))
}

/// Remove a member
///
/// Removes a member from a group; they lose sight of it at once. The owner may remove
/// anyone, admins only plain members (otherwise 403 `forbidden`). Removing yourself
/// this way is 400 `invalid_request` (use leave). A direct chat cannot have members
/// removed: 400 `invalid_request`. A user who is not a member: 404. When authenticated
/// by the `chatter_session` cookie, this write needs an `Origin` the server accepts,
/// else 403 `forbidden`.
#[utoipa::path(
    delete,
    path = "/v1/chats/{id}/members/{user_id}",
    operation_id = "removeMember",
    tag = "Members",
    params(
        ("id" = String, Path, description = "The chat's id."),
        ("user_id" = String, Path, description = "The member's user id.")
    ),
    responses(
        (status = 204, description = "Done. No body."),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.service.remove_member(&caller, &ChatId::new(id), &UserId::new(user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
