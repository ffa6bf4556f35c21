//! `/v1/chats/{id}/messages`: history windows, send, edit, delete.

use super::auth::Auth;
use super::error::{ApiResult, BadRequest, Forbidden, NotFound, PayloadTooLarge, SignedIn, invalid};
use super::extract::{Json, Path, Query};
use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatter_core::model::Message;
use chatter_core::paging::clamp_limit;
use chatter_core::protocol::{EditMessageRequest, MessageList, MessagesQuery, SendMessageRequest};
use chatter_core::service::SendInput;
use chatter_core::store::{Created, MessageWindow};
use chatter_core::{ChatId, MessageId};

/// Read messages
///
/// Answers `{messages}`, always in ascending seq (deleted messages included, with empty
/// text). Without `before_seq`/`after_seq`: the newest `limit` messages. With
/// `before_seq=B`: the highest `limit` messages with seq < B. With `after_seq=A`: the
/// lowest `limit` messages with seq > A. `before_seq` together with `after_seq` is a
/// 400. `limit`: default 50, clamped to 1..200. Anyone who may see the chat may read
/// its whole history.
#[utoipa::path(
    get,
    path = "/v1/chats/{id}/messages",
    operation_id = "listMessages",
    tag = "Messages",
    params(
        ("id" = String, Path, description = "The chat's id."),
        MessagesQuery
    ),
    responses(
        (status = 200, description = "A page of messages, ascending by seq.", body = MessageList),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<axum::Json<MessageList>> {
    let window = match (q.before_seq, q.after_seq) {
        (Some(_), Some(_)) => return Err(invalid("give before_seq or after_seq, not both")),
        (Some(b), None) => MessageWindow::Before(b),
        (None, Some(a)) => MessageWindow::After(a),
        (None, None) => MessageWindow::Latest,
    };
    let messages = state.service.messages(&caller, &ChatId::new(id), window, clamp_limit(q.limit)).await?;
    Ok(axum::Json(MessageList { messages }))
}

/// Send a message
///
/// Posts a message with the chat's next seq. Members only (a non-member of a public
/// group: 403 `forbidden`). text: 1-4000 characters after trimming, newline and tab
/// allowed. client_id: 1-64 characters, an idempotency key: the same client_id from the
/// same user again answers 200 with the first message, never a copy. reply_to must name
/// a message of the same chat (else 404 `not_found`). When authenticated by the
/// `chatter_session` cookie, this write needs an `Origin` the server accepts, else 403
/// `forbidden`.
#[utoipa::path(
    post,
    path = "/v1/chats/{id}/messages",
    operation_id = "sendMessage",
    tag = "Messages",
    request_body = SendMessageRequest,
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 200, description = "A message with this client_id was already sent by the caller: the first one.", body = Message),
        (status = 201, description = "Sent.", body = Message),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        SignedIn
    )
)]
pub async fn send(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Json(req): Json<SendMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<Message>)> {
    let input = SendInput { text: req.text, client_id: req.client_id, reply_to: req.reply_to };
    Ok(match state.service.send_message(&caller, &ChatId::new(id), input).await? {
        Created::New((m, _)) => (StatusCode::CREATED, axum::Json(m)),
        Created::Existing((m, _)) => (StatusCode::OK, axum::Json(m)),
    })
}

/// Edit a message
///
/// Replaces the text (1-4000 characters after trimming) and sets `edited_at`. Only its
/// sender, while a member (others: 403 `forbidden`). Editing a deleted message is 400
/// `invalid_request`. The message is looked up inside the chat of the URL (a mismatch
/// is 404). When authenticated by the `chatter_session` cookie, this write needs an
/// `Origin` the server accepts, else 403 `forbidden`.
#[utoipa::path(
    patch,
    path = "/v1/chats/{id}/messages/{message_id}",
    operation_id = "editMessage",
    tag = "Messages",
    request_body = EditMessageRequest,
    params(
        ("id" = String, Path, description = "The chat's id."),
        ("message_id" = String, Path, description = "The message's id, looked up inside the chat of the URL (a message of another chat is 404).")
    ),
    responses(
        (status = 200, description = "The edited message.", body = Message),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        SignedIn
    )
)]
pub async fn edit(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, message_id)): Path<(String, String)>,
    Json(req): Json<EditMessageRequest>,
) -> ApiResult<axum::Json<Message>> {
    let m = state.service.edit_message(&caller, &ChatId::new(id), &MessageId::new(message_id), &req.text).await?;
    Ok(axum::Json(m))
}

/// Delete a message
///
/// Deletes a message: it keeps its seq, with `deleted: true` and empty text. Allowed to
/// its sender and, in groups, to the owner and admins (others: 403 `forbidden`).
/// Deleting an already-deleted message is a 204 again. The message is looked up inside
/// the chat of the URL (a mismatch is 404). When authenticated by the `chatter_session`
/// cookie, this write needs an `Origin` the server accepts, else 403 `forbidden`.
#[utoipa::path(
    delete,
    path = "/v1/chats/{id}/messages/{message_id}",
    operation_id = "deleteMessage",
    tag = "Messages",
    params(
        ("id" = String, Path, description = "The chat's id."),
        ("message_id" = String, Path, description = "The message's id, looked up inside the chat of the URL (a message of another chat is 404).")
    ),
    responses(
        (status = 204, description = "Done. No body."),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.service.delete_message(&caller, &ChatId::new(id), &MessageId::new(message_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
