//! Fan-out between nodes, behind a trait. The durable log is the store; the broker is
//! best effort, and event seqs let every connection fill a gap from the store.

mod local;

pub use local::LocalBroker;

use chatter_core::service::{Notice, NoticeSink};
use chatter_core::{ChatId, UserId};
use std::sync::Arc;

/// Something every node must hear about, to deliver to its own sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
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
        self.0.publish(Broadcast::Notice(notice));
    }
}
