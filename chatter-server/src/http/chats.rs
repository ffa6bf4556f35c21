//! `/v1/chats`: create, list, search, read, update, join, leave, read marker.

use super::auth::Auth;
use super::error::ApiResult;
use super::extract::{Json, Path, Query};
use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatter_core::ChatId;
use chatter_core::model::Chat;
use chatter_core::paging::clamp_limit;
use chatter_core::protocol::{
    ChatList, ChatView, CreateChatRequest, JoinResponse, PageQuery, PublicChatList, ReadRequest, SearchQuery,
    UpdateChatRequest,
};
use chatter_core::service::CreateChat;
use chatter_core::store::Created;

/// `POST /v1/chats`: 201 with a new chat, 200 with an existing direct chat.
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Json(req): Json<CreateChatRequest>,
) -> ApiResult<(StatusCode, axum::Json<Chat>)> {
    let req = match req {
        CreateChatRequest::Group { title, visibility, members } => CreateChat::Group { title, visibility, members },
        CreateChatRequest::Direct { members } => CreateChat::Direct { members },
    };
    Ok(match state.service.create_chat(&caller, req).await? {
        Created::New(chat) => (StatusCode::CREATED, axum::Json(chat)),
        Created::Existing(chat) => (StatusCode::OK, axum::Json(chat)),
    })
}

/// `GET /v1/chats`: the caller's chats, most recently active first.
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<ChatList>> {
    let page = state.service.chats(&caller, clamp_limit(q.limit), q.cursor.as_deref()).await?;
    Ok(axum::Json(ChatList { chats: page.items, next_cursor: page.next_cursor }))
}

/// `GET /v1/chats/public?q=`.
pub async fn public(
    State(state): State<AppState>,
    Auth(_): Auth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<axum::Json<PublicChatList>> {
    let page = state.service.search_public_chats(q.q.as_deref(), clamp_limit(q.limit), q.cursor.as_deref()).await?;
    Ok(axum::Json(PublicChatList { chats: page.items, next_cursor: page.next_cursor }))
}

/// `GET /v1/chats/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChatView>> {
    Ok(axum::Json(state.service.chat(&caller, &ChatId::new(id)).await?))
}

/// `PATCH /v1/chats/{id}`.
pub async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(req): Json<UpdateChatRequest>,
) -> ApiResult<axum::Json<Chat>> {
    Ok(axum::Json(state.service.update_chat(&caller, &ChatId::new(id), req).await?))
}

/// `POST /v1/chats/{id}/join`.
pub async fn join(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<JoinResponse>> {
    let (chat, messages) = state.service.join(&caller, &ChatId::new(id)).await?;
    Ok(axum::Json(JoinResponse { chat, messages }))
}

/// `POST /v1/chats/{id}/leave`.
pub async fn leave(State(state): State<AppState>, Auth(caller): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.service.leave(&caller, &ChatId::new(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/chats/{id}/read`.
pub async fn read(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(req): Json<ReadRequest>,
) -> ApiResult<StatusCode> {
    state.service.mark_read(&caller, &ChatId::new(id), req.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}
