//! The value types of what the client knows, shown to apps through the facing modules
//! (`timeline`, `chat_list`), which re-export them.

use crate::error::SdkError;
use crate::send_queue::QueuedSend;
use chatter_core::model::Message;
use chatter_core::{MessageId, Timestamp, UserId};

/// One chat in the user's list.
///
/// It is the server's chat summary (`chat_summary` in the API): `chat` (whose
/// `last_event_seq` is the last event this client applied), `role`, `last_message`,
/// `unread_count` and `read_seq`.
///
/// ```no_run
/// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
/// for item in client.chat_list().items() {
///     let preview = item.last_message.map(|m| m.text).unwrap_or_default();
///     println!("{:?} ({:?}): {preview}", item.chat.title, item.role);
/// }
/// # Ok(()) }
/// ```
pub type ChatListItem = chatter_core::protocol::ChatSummaryView;

/// Where a message of the user's stands.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// ```no_run
/// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
/// use chatter_sdk::SendState;
/// for item in timeline.items() {
///     match item.send_state {
///         SendState::Pending => println!("{} (sending)", item.text),
///         SendState::Sent => println!("{}", item.text),
///         SendState::Failed { error, .. } => println!("{} (not sent: {error})", item.text),
///     }
/// }
/// # Ok(()) }
/// ```
pub enum SendState {
    /// Queued or on its way; shown as a local echo.
    Pending,
    /// Stored by the server (every message received from it is in this state).
    Sent,
    /// The server refused it, or it could not be sent.
    Failed {
        /// Why.
        error: SdkError,
        /// Whether sending it again may work ([`Timeline::retry_send`](crate::Timeline::retry_send)).
        retryable: bool,
    },
}

/// One message in a timeline: a stored one (with `id` and `seq`), or a local echo of
/// one the user is sending (with its `client_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// ```no_run
/// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
/// let newest = timeline.items().last().cloned();
/// if let Some(item) = newest {
///     println!("{:?} {} {}", item.seq, item.sender_id, if item.deleted { "(deleted)" } else { &item.text });
/// }
/// # Ok(()) }
/// ```
pub struct TimelineItem {
    /// The message id, once stored.
    pub id: Option<MessageId>,
    /// Its seq in the chat, once stored.
    pub seq: Option<u64>,
    /// The idempotency key of a message sent from this client.
    pub client_id: Option<String>,
    /// Who wrote it.
    pub sender_id: UserId,
    /// The text (empty once deleted).
    pub text: String,
    /// The message it answers.
    pub reply_to: Option<MessageId>,
    /// When it was written.
    pub created_at: Timestamp,
    /// When it was last edited.
    pub edited_at: Option<Timestamp>,
    /// Whether it was deleted.
    pub deleted: bool,
    /// Sent, or still on its way.
    pub send_state: SendState,
}

impl TimelineItem {
    pub(crate) fn remote(m: Message) -> Self {
        Self {
            id: Some(m.id),
            seq: Some(m.seq),
            client_id: m.client_id,
            sender_id: m.sender_id,
            text: m.text,
            reply_to: m.reply_to,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: m.deleted,
            send_state: SendState::Sent,
        }
    }

    pub(crate) fn local(send: &QueuedSend, sender_id: UserId) -> Self {
        Self {
            id: None,
            seq: None,
            client_id: Some(send.client_id.clone()),
            sender_id,
            text: send.text.clone(),
            reply_to: send.reply_to.clone(),
            created_at: send.created_at,
            edited_at: None,
            deleted: false,
            send_state: SendState::Pending,
        }
    }
}
