//! Fan-out between nodes, behind a trait. The durable log is the store; the broker is
//! best effort, and event seqs let every connection fill a gap from the store.
//!
//! `local` keeps everything on this node (the default); `redis` carries broadcasts and
//! presence between nodes through Redis.

mod local;
pub(crate) mod presence;
mod redis;

pub use local::LocalBroker;
pub use redis::{RedisBroker, RedisError, RedisLoginLimiter, RedisPlacement};

use crate::sfu::{RemoteCall, RemoteReply};
use async_trait::async_trait;
use chatter_core::protocol::ws::ServerMessage;
use chatter_core::service::{Notice, NoticeSink};
use chatter_core::{ChatId, SessionId, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Something every node must hear about, to deliver to its own sockets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "broadcast", rename_all = "snake_case")]
pub enum Broadcast {
    /// A change decided by the core (chat events, membership, read markers,
    /// revocations).
    Notice(Notice),
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
    /// The chat's events reach at least `event_seq` in the store: sockets that sent
    /// less read the rest from there (sent when a broadcast may have been lost).
    Head {
        /// The chat.
        chat_id: ChatId,
        /// Its newest stored event.
        event_seq: u64,
    },
    /// A frame for every socket of one session (call signalling and call events).
    ToSession {
        /// The session.
        session_id: SessionId,
        /// The frame.
        message: ServerMessage,
    },
    /// A frame for every socket following a chat (a call started or ended).
    ToChat {
        /// The chat.
        chat_id: ChatId,
        /// The frame.
        message: ServerMessage,
    },
    /// A call request for the node hosting the call.
    CallRequest {
        /// The hosting node.
        to: String,
        /// The asking node.
        from: String,
        /// Matches the reply.
        id: u64,
        /// The request.
        call: RemoteCall,
    },
    /// The answer to a call request.
    CallReply {
        /// The asking node.
        to: String,
        /// The request's id.
        id: u64,
        /// The answer.
        reply: RemoteReply,
    },
    /// The node hosting calls asks which of its participants' sessions hold a socket on
    /// another node.
    SocketsAsked {
        /// The asking node.
        from: String,
        /// The sessions without a socket on the asking node.
        sessions: Vec<SessionId>,
    },
    /// A node holds a socket of each of these sessions (an answer to `SocketsAsked`).
    SocketsHeld {
        /// The asking node.
        to: String,
        /// The sessions.
        sessions: Vec<SessionId>,
    },
    /// Broadcasts of the sender were lost (its queue overflowed): every node checks its
    /// sockets' sessions, chats and events against the store.
    CatchUp,
}

/// Carries broadcasts and presence to every node (this one included).
#[async_trait]
pub trait Broker: Send + Sync + std::fmt::Debug {
    /// Sends a broadcast; never blocks. This node's sockets get it at once.
    fn publish(&self, broadcast: Broadcast);

    /// This node's sockets of `user_id` came or went: records whether the node still
    /// holds one, and when that changes the user's presence over all nodes, announces
    /// it to the users who may see it.
    async fn presence_changed(&self, user_id: UserId);

    /// Which of `users` are online (some node holds one of their sockets).
    async fn online_among(&self, users: &[UserId]) -> Vec<UserId>;

    /// Which unbroken stretch of hearing the other nodes this is: the same number twice
    /// means nothing they sent in between was missed for want of a subscription; `None`
    /// while not hearing them. One node hears everything, always.
    fn hearing(&self) -> Option<u64> {
        Some(0)
    }

    /// The node is stopping and its sockets are closed: tells the other nodes now
    /// (rather than when the node is found dead) and sends what is still queued.
    async fn shutdown(&self) {}
}

/// The core's notice sink, publishing through a broker.
#[derive(Debug, Clone)]
pub struct BrokerSink(pub Arc<dyn Broker>);

impl NoticeSink for BrokerSink {
    fn publish(&self, notice: Notice) {
        self.0.publish(Broadcast::Notice(notice));
    }
}
