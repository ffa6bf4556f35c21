//! `/v1/chats/{id}/call`: join (starting the call), read, leave. The media and the
//! signalling run in the SFU and on the WebSocket.

use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::extract::Path;
use crate::app::AppState;
use crate::sfu::SfuError;
use axum::extract::State;
use axum::http::StatusCode;
use chatter_core::ChatId;
use chatter_core::protocol::{CallInfo, JoinedCall};

impl From<SfuError> for ApiError {
    fn from(e: SfuError) -> Self {
        ApiError(e.into())
    }
}

/// `POST /v1/chats/{id}/call`: the caller's session joins the chat's call, starting it.
pub async fn join(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<JoinedCall>> {
    let chat_id = ChatId::new(id);
    state.service.check_member(&caller, &chat_id).await?;
    let joined = state.calls.join(chat_id, caller.user.id.clone(), caller.session_id.clone()).await?;
    Ok(axum::Json(joined))
}

/// `GET /v1/chats/{id}/call`: the running call, or 404. A participant reading it gets
/// the others' tracks under the mids of its own connection, as `call.track` gives them.
pub async fn get(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CallInfo>> {
    let chat_id = ChatId::new(id);
    state.service.check_member(&caller, &chat_id).await?;
    let info = state.calls.call(chat_id, caller.session_id.clone()).await?.ok_or(SfuError::NoCall)?;
    Ok(axum::Json(info))
}

/// `POST /v1/chats/{id}/call/leave`: the caller's session leaves the call.
pub async fn leave(State(state): State<AppState>, Auth(caller): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let chat_id = ChatId::new(id);
    state.service.check_member(&caller, &chat_id).await?;
    state.calls.leave(chat_id, caller.session_id.clone()).await?;
    Ok(StatusCode::NO_CONTENT)
}
