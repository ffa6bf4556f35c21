//! What JavaScript sees of the SDK's own types (the wire's types pass as they are):
//! plain objects in the REST API's shape, with their TypeScript declarations.

use chatter_sdk as sdk;
use chatter_sdk::{DisconnectReason, MessageId, SdkError, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use tsify::Tsify;

/// An error as a failed send carries it.
#[derive(Serialize, Tsify)]
pub struct SendError {
    /// The API's error code.
    code: String,
    /// What went wrong.
    message: String,
    /// The input field it is about.
    field: Option<String>,
    /// How long to wait before trying again.
    retry_after_ms: Option<u64>,
}

impl From<&SdkError> for SendError {
    fn from(e: &SdkError) -> Self {
        Self {
            code: e.code().to_owned(),
            message: e.to_string(),
            field: e.field().map(str::to_owned),
            retry_after_ms: e.retry_after().map(|d| d.as_millis() as u64),
        }
    }
}

/// Where a message of the user's stands.
#[derive(Serialize, Tsify)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SendState {
    /// Queued or on its way: shown as a local echo.
    Pending,
    /// Stored by the server.
    Sent,
    /// Refused, or could not be sent.
    Failed {
        /// Why.
        error: SendError,
        /// Whether `retrySend` may work.
        retryable: bool,
    },
}

/// One message in a timeline: stored (`id`, `seq`) or a local echo (`client_id`).
#[derive(Serialize, Tsify)]
pub struct TimelineItem {
    /// The message id, once stored.
    id: Option<MessageId>,
    /// Its seq in the chat, once stored.
    seq: Option<u64>,
    /// The idempotency key of a message sent from this client.
    client_id: Option<String>,
    /// Who wrote it.
    sender_id: UserId,
    /// The text (empty once deleted).
    text: String,
    /// The message it answers.
    reply_to: Option<MessageId>,
    /// When it was written.
    created_at: Timestamp,
    /// When it was last edited.
    edited_at: Option<Timestamp>,
    /// Whether it was deleted.
    deleted: bool,
    /// Sent, or still on its way.
    send_state: SendState,
}

impl From<&sdk::TimelineItem> for TimelineItem {
    fn from(i: &sdk::TimelineItem) -> Self {
        let send_state = match &i.send_state {
            sdk::SendState::Pending => SendState::Pending,
            sdk::SendState::Sent => SendState::Sent,
            sdk::SendState::Failed { error, retryable } => {
                SendState::Failed { error: error.into(), retryable: *retryable }
            }
        };
        Self {
            id: i.id.clone(),
            seq: i.seq,
            client_id: i.client_id.clone(),
            sender_id: i.sender_id.clone(),
            text: i.text.clone(),
            reply_to: i.reply_to.clone(),
            created_at: i.created_at,
            edited_at: i.edited_at,
            deleted: i.deleted,
            send_state,
        }
    }
}

/// What the sync connection is doing.
#[derive(Serialize, Tsify)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// Not started.
    Idle,
    /// Opening the connection and catching up.
    Connecting,
    /// Caught up and live.
    Connected,
    /// Dropped; the next try is in `next_in_ms`.
    Reconnecting {
        /// Tries since the last good connection.
        attempt: u32,
        /// The wait before the next try.
        next_in_ms: u64,
    },
    /// Stopped for good: `unauthenticated` means log in again.
    Disconnected {
        /// `stopped` or `unauthenticated`.
        reason: String,
    },
}

impl From<&sdk::SyncState> for SyncState {
    fn from(s: &sdk::SyncState) -> Self {
        match s {
            sdk::SyncState::Idle => Self::Idle,
            sdk::SyncState::Connecting => Self::Connecting,
            sdk::SyncState::Connected => Self::Connected,
            sdk::SyncState::Reconnecting { attempt, next_in } => {
                Self::Reconnecting { attempt: *attempt, next_in_ms: next_in.as_millis() as u64 }
            }
            sdk::SyncState::Disconnected { reason } => Self::Disconnected {
                reason: match reason {
                    DisconnectReason::Unauthenticated => "unauthenticated",
                    _ => "stopped",
                }
                .to_owned(),
            },
        }
    }
}

/// `Client.create`'s options.
#[derive(Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientOptions {
    /// The server's base URL (`http://` or `https://`).
    pub server: String,
    /// Keep the session and the send queue in `localStorage` under this name, so the app
    /// reopens logged in with its unsent messages (browsers only; memory otherwise).
    #[serde(default)]
    #[tsify(optional)]
    pub persist_as: Option<String>,
    /// `cookie`: the session lives in the server's HttpOnly cookie, so script never holds
    /// the token (the default in a browser page on the server's own origin); `token`: a
    /// bearer token, kept in memory or, with `persistAs`, in `localStorage` (the default
    /// in Node and on other origins).
    #[serde(default)]
    #[tsify(optional, type = "\"cookie\" | \"token\"")]
    pub session: Option<SessionMode>,
    /// The device name sessions are listed with.
    #[serde(default)]
    #[tsify(optional)]
    pub device_name: Option<String>,
}

// The chat list's items are the API's chat summaries.
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const CHAT_LIST_ITEM_TS: &str =
    "/** One chat in the user's list: the API's chat summary. */\nexport type ChatListItem = ChatSummaryView;";

/// Where the session lives.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SessionMode {
    /// The server's HttpOnly cookie.
    Cookie,
    /// A bearer token.
    Token,
}

/// `createGroup`'s options.
#[derive(Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupOptions {
    /// 1–100 characters.
    pub title: String,
    /// `public` or `private`.
    pub visibility: chatter_sdk::model::Visibility,
    /// Users added at once.
    #[serde(default)]
    #[tsify(optional)]
    pub members: Vec<UserId>,
}

/// `updateProfile`'s changes (absent fields stay).
#[derive(Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileChanges {
    /// 1–64 characters.
    #[serde(default)]
    #[tsify(optional)]
    pub display_name: Option<String>,
    /// 0–500 characters.
    #[serde(default)]
    #[tsify(optional)]
    pub bio: Option<String>,
    /// An `https://` URL, or empty to remove it.
    #[serde(default)]
    #[tsify(optional)]
    pub avatar_url: Option<String>,
}

/// A chat's update (absent fields stay).
#[derive(Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatChanges {
    /// 1–100 characters.
    #[serde(default)]
    #[tsify(optional)]
    pub title: Option<String>,
    /// `public` or `private`.
    #[serde(default)]
    #[tsify(optional)]
    pub visibility: Option<chatter_sdk::model::Visibility>,
}
