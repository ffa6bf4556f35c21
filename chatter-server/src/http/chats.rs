//! `/v1/chats`: create, list, search, read, update, join, leave, read marker.

use super::auth::Auth;
use super::error::{ApiResult, BadRequest, Forbidden, NotFound, PayloadTooLarge, SignedIn};
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

/// Create a group or a direct chat
///
/// Group: `{kind: "group", title, visibility, members?}`; the caller becomes the owner,
/// the listed users plain members; title 1-100 after trimming, one line. Answers 201.
/// Direct: `{kind: "direct", members: [other_user_id]}`; there is one direct chat per
/// pair of users: 201 when it is created, 200 with the existing one otherwise. A direct
/// chat has title and owner_id null, visibility private, and exactly two members for
/// ever. A direct chat with yourself is 400 `validation_failed`. An unknown user id in
/// `members` is 404 `not_found` with field `members`. When authenticated by the
/// `chatter_session` cookie, this write needs an `Origin` the server accepts, else 403
/// `forbidden`.
#[utoipa::path(
    post,
    path = "/v1/chats",
    operation_id = "createChat",
    tag = "Chats",
    request_body = CreateChatRequest,
    responses(
        (status = 200, description = "Direct chat only: the existing chat with that user.", body = Chat),
        (status = 201, description = "The new chat.", body = Chat),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        SignedIn
    )
)]
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

/// My chats
///
/// Lists the chats the caller is a member of, most recently active first, each as a
/// summary with the caller's role, the newest message, the unread count and the read
/// marker. After reconnecting, a client reads this list to learn of chats added while
/// it was away (their `last_event_seq` is in the summary). Paged: `limit` (default 50,
/// clamped to 1..200) and `cursor`; the answer's `next_cursor` is an opaque string,
/// null at the end; a malformed cursor is 400 `validation_failed` with field `cursor`.
#[utoipa::path(
    get,
    path = "/v1/chats",
    operation_id = "listChats",
    tag = "Chats",
    params(
        PageQuery
    ),
    responses(
        (status = 200, description = "A page of chat summaries.", body = ChatList),
        (status = 400, response = BadRequest),
        SignedIn
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<ChatList>> {
    let page = state.service.chats(&caller, clamp_limit(q.limit), q.cursor.as_deref()).await?;
    Ok(axum::Json(ChatList { chats: page.items, next_cursor: page.next_cursor }))
}

/// Search public groups
///
/// Lists public groups whose title matches `q`. Any signed-in user may see and join
/// public groups. Paged: `limit` (default 50, clamped to 1..200) and `cursor`; the
/// answer's `next_cursor` is an opaque string, null at the end; a malformed cursor is
/// 400 `validation_failed` with field `cursor`.
#[utoipa::path(
    get,
    path = "/v1/chats/public",
    operation_id = "listPublicChats",
    tag = "Chats",
    params(
        SearchQuery
    ),
    responses(
        (status = 200, description = "A page of public groups.", body = PublicChatList),
        (status = 400, response = BadRequest),
        SignedIn
    )
)]
pub async fn public(
    State(state): State<AppState>,
    Auth(_): Auth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<axum::Json<PublicChatList>> {
    let page = state.service.search_public_chats(q.q.as_deref(), clamp_limit(q.limit), q.cursor.as_deref()).await?;
    Ok(axum::Json(PublicChatList { chats: page.items, next_cursor: page.next_cursor }))
}

/// A chat
///
/// Answers a `ChatSummary` to members, and a plain `Chat` to others who may see it
/// (anyone signed in, for a public group). A private group or direct chat the caller is
/// not a member of is 404, as is an unknown id.
#[utoipa::path(
    get,
    path = "/v1/chats/{id}",
    operation_id = "getChat",
    tag = "Chats",
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 200, description = "The chat: a ChatSummary for members, a Chat otherwise.", body = ChatView),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ChatView>> {
    Ok(axum::Json(state.service.chat(&caller, &ChatId::new(id)).await?))
}

/// Rename or change visibility
///
/// Changes the title (1-100 after trimming, one line) and/or the visibility of a group.
/// Owner and admins only (others: 403 `forbidden`; a non-member who cannot see the
/// chat: 404). A direct chat cannot be changed: 400 `invalid_request`. Members get a
/// `chat.updated` event. When authenticated by the `chatter_session` cookie, this write
/// needs an `Origin` the server accepts, else 403 `forbidden`.
#[utoipa::path(
    patch,
    path = "/v1/chats/{id}",
    operation_id = "updateChat",
    tag = "Chats",
    request_body = UpdateChatRequest,
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 200, description = "The updated chat.", body = Chat),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        SignedIn
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(req): Json<UpdateChatRequest>,
) -> ApiResult<axum::Json<Chat>> {
    Ok(axum::Json(state.service.update_chat(&caller, &ChatId::new(id), req).await?))
}

/// Join a public group
///
/// Anyone signed in may join a public group; joining again is a no-op 200. A private
/// group cannot be joined by non-members (404, it is not revealed; for its members
/// joining is the same no-op 200); a direct chat cannot be joined (400
/// `invalid_request` for its members, 404 for anyone else). The answer carries the chat
/// and its newest page of messages, so the client can show it at once. New members see
/// the whole history. When authenticated by the `chatter_session` cookie, this write
/// needs an `Origin` the server accepts, else 403 `forbidden`.
#[utoipa::path(
    post,
    path = "/v1/chats/{id}/join",
    operation_id = "joinChat",
    tag = "Chats",
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 200, description = "Joined (or already a member).", body = JoinResponse),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn join(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<JoinResponse>> {
    let (chat, messages) = state.service.join(&caller, &ChatId::new(id)).await?;
    Ok(axum::Json(JoinResponse { chat, messages }))
}

/// Leave a group
///
/// Any member may leave a group and loses sight of it at once (for a private group). An
/// owner who leaves hands ownership to the oldest admin, else to the oldest member; the
/// last one out deletes the chat. A non-member of a public group gets 403 `forbidden`;
/// of a chat it cannot see, 404. A direct chat cannot be left: 400 `invalid_request`.
/// When authenticated by the `chatter_session` cookie, this write needs an `Origin` the
/// server accepts, else 403 `forbidden`.
#[utoipa::path(
    post,
    path = "/v1/chats/{id}/leave",
    operation_id = "leaveChat",
    tag = "Chats",
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 204, description = "Done. No body."),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn leave(State(state): State<AppState>, Auth(caller): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.service.leave(&caller, &ChatId::new(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move my read marker
///
/// Sets the caller's read marker to `seq`. Members only (a non-member of a public
/// group: 403 `forbidden`). A seq greater than the chat's `last_seq` is 400
/// `validation_failed` with field `seq`. The marker never moves back: a seq lower than
/// the current marker is accepted and changes nothing. When authenticated by the
/// `chatter_session` cookie, this write needs an `Origin` the server accepts, else 403
/// `forbidden`.
#[utoipa::path(
    post,
    path = "/v1/chats/{id}/read",
    operation_id = "markChatRead",
    tag = "Chats",
    request_body = ReadRequest,
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 204, description = "Done. No body."),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        SignedIn
    )
)]
pub async fn read(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(req): Json<ReadRequest>,
) -> ApiResult<StatusCode> {
    state.service.mark_read(&caller, &ChatId::new(id), req.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}
