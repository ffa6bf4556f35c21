//! `/v1/chats/{id}/members`: list, add, change role, remove.

use super::auth::Auth;
use super::error::ApiResult;
use super::extract::{Json, Path, Query};
use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatter_core::paging::clamp_limit;
use chatter_core::protocol::{AddMemberRequest, MemberList, MemberView, PageQuery, SetRoleRequest};
use chatter_core::store::Created;
use chatter_core::{ChatId, UserId};

/// `GET /v1/chats/{id}/members`.
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

/// `POST /v1/chats/{id}/members`: 201 when added, 200 when already a member.
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

/// `PATCH /v1/chats/{id}/members/{user_id}`.
pub async fn set_role(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
    Json(req): Json<SetRoleRequest>,
) -> ApiResult<axum::Json<MemberView>> {
    let entry = state.service.set_role(&caller, &ChatId::new(id), &UserId::new(user_id), &req.role).await?;
    Ok(axum::Json(entry.into()))
}

/// `DELETE /v1/chats/{id}/members/{user_id}`.
pub async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.service.remove_member(&caller, &ChatId::new(id), &UserId::new(user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
