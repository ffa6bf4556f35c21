//! `/v1/chats/{id}/call`: join (starting the call), read, leave. The media and the
//! signalling run in the SFU and on the WebSocket.

use super::auth::Auth;
use super::error::{ApiError, ApiResult, Forbidden, NotFound, SignedIn};
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

/// Join the chat's call, starting it if none runs
///
/// Only members join: a visitor of a public group gets 403 `forbidden`, a chat the
/// caller cannot see 404. Each join is a new participant of the caller's session (a
/// participant the session already had is replaced, reason `removed`); a full call
/// (`--call-max-participants`, default 50) gives 403 `forbidden`. Members get
/// `call.started` when a call starts, participants `call.participant_joined`. The
/// client then makes the first SDP offer on the WebSocket. A participant ends with
/// `POST …/call/leave`, ICE failure, or its session having no open socket for 10 s; the
/// last one out ends the call (`call.ended`). When authenticated by the
/// `chatter_session` cookie, this write needs an `Origin` the server accepts.
#[utoipa::path(
    post,
    path = "/v1/chats/{id}/call",
    operation_id = "joinCall",
    tag = "Calls",
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 200, description = "Joined.", body = JoinedCall),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
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

/// The chat's running call
///
/// 404 when no call runs (or the caller may not see the chat); a non-member of a public
/// group gets 403.
#[utoipa::path(
    get,
    path = "/v1/chats/{id}/call",
    operation_id = "getCall",
    tag = "Calls",
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 200, description = "The call.", body = CallInfo),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
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

/// Leave the chat's call
///
/// The caller's session leaves (participants hear `call.participant_left` with reason
/// `left`); 404 when it is not in the call.
#[utoipa::path(
    post,
    path = "/v1/chats/{id}/call/leave",
    operation_id = "leaveCall",
    tag = "Calls",
    params(
        ("id" = String, Path, description = "The chat's id.")
    ),
    responses(
        (status = 204, description = "Done. No body."),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        SignedIn
    )
)]
pub async fn leave(State(state): State<AppState>, Auth(caller): Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let chat_id = ChatId::new(id);
    state.service.check_member(&caller, &chat_id).await?;
    state.calls.leave(chat_id, caller.session_id.clone()).await?;
    Ok(StatusCode::NO_CONTENT)
}
