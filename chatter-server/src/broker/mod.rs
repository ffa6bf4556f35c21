//! Fan-out between nodes, behind a trait. The durable log is the store; the broker is
//! best effort, and event seqs let every connection fill a gap from the store.

mod local;

pub use local::LocalBroker;

use chatter_core::model::{Chat, ChatEvent};
use chatter_core::service::{Notice, NoticeSink};
use chatter_core::{ChatId, SessionId, UserId};
use std::sync::Arc;

/// Something every node must hear about, to deliver to its own sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broadcast {
    /// A chat event, for the chat's subscribers.
    Chat(ChatEvent),
    /// `user_id` was added to `chat`.
    ChatAdded {
        /// Who.
        user_id: UserId,
        /// The chat as it was right after.
        chat: Chat,
    },
    /// `user_id` left or lost `chat_id`.
    ChatRemoved {
        /// Who.
        user_id: UserId,
        /// Which chat.
        chat_id: ChatId,
    },
    /// A read marker moved.
    Read {
        /// Where.
        chat_id: ChatId,
        /// Whose.
        user_id: UserId,
        /// Up to where.
        seq: u64,
    },
    /// Someone is typing.
    Typing {
        /// Where.
        chat_id: ChatId,
        /// Who.
        user_id: UserId,
    },
    /// Someone came online or went offline, for the users who may see it.
    Presence {
        /// Who.
        user_id: UserId,
        /// Online or not.
        online: bool,
        /// Who hears it.
        audience: Vec<UserId>,
    },
    /// These sessions were revoked: their sockets close with 4001.
    SessionsRevoked {
        /// Which.
        session_ids: Vec<SessionId>,
    },
}

/// Carries broadcasts to every node (this one included).
pub trait Broker: Send + Sync + std::fmt::Debug {
    /// Sends a broadcast; never blocks.
    fn publish(&self, broadcast: Broadcast);
}

/// The core's notice sink, publishing through a broker.
#[derive(Debug, Clone)]
pub struct BrokerSink(pub Arc<dyn Broker>);

impl NoticeSink for BrokerSink {
    fn publish(&self, notice: Notice) {
        let broadcast = match notice {
            Notice::Chat(event) => Broadcast::Chat(event),
            Notice::ChatAdded { user_id, chat } => Broadcast::ChatAdded { user_id, chat },
            Notice::ChatRemoved { user_id, chat_id } => Broadcast::ChatRemoved { user_id, chat_id },
            Notice::Read { chat_id, user_id, seq } => Broadcast::Read { chat_id, user_id, seq },
            Notice::SessionsRevoked { session_ids, .. } => Broadcast::SessionsRevoked { session_ids },
        };
        self.0.publish(broadcast);
    }
}
