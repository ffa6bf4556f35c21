//! `/v1/chats/{id}/messages`: history windows, send, edit, delete.

use super::auth::Auth;
use super::error::{ApiResult, invalid};
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

/// `GET /v1/chats/{id}/messages`: newest page, or `before_seq` / `after_seq` windows.
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

/// `POST /v1/chats/{id}/messages`: 201 new, 200 for a repeated `client_id`.
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

/// `PATCH /v1/chats/{id}/messages/{message_id}`.
pub async fn edit(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, message_id)): Path<(String, String)>,
    Json(req): Json<EditMessageRequest>,
) -> ApiResult<axum::Json<Message>> {
    let m = state.service.edit_message(&caller, &ChatId::new(id), &MessageId::new(message_id), &req.text).await?;
    Ok(axum::Json(m))
}

/// `DELETE /v1/chats/{id}/messages/{message_id}`.
pub async fn delete(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.service.delete_message(&caller, &ChatId::new(id), &MessageId::new(message_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
