//! The SFU's frames go out through the broker, so sessions and chats hear of calls on
//! whichever node their sockets are.

use super::CallSink;
use super::sockets::{SocketState, SocketsElsewhere};
use crate::broker::{Broadcast, Broker};
use crate::realtime::Hub;
use chatter_core::protocol::ws::ServerMessage;
use chatter_core::{ChatId, SessionId};
use std::sync::Arc;
use std::time::Instant;

/// Call frames through the broker; sockets from this node's hub, and (with several
/// nodes) from what the other nodes last said they hold.
#[derive(Debug, Clone)]
pub struct BrokerCallSink {
    /// Fan-out to every node.
    pub broker: Arc<dyn Broker>,
    /// This node's sockets.
    pub hub: Arc<Hub>,
    /// Participants' sessions with a socket on another node.
    pub elsewhere: Arc<SocketsElsewhere>,
}

impl CallSink for BrokerCallSink {
    fn to_session(&self, session_id: &SessionId, message: ServerMessage) {
        self.broker.publish(Broadcast::ToSession { session_id: session_id.clone(), message });
    }

    fn to_chat(&self, chat_id: &ChatId, message: ServerMessage) {
        self.broker.publish(Broadcast::ToChat { chat_id: chat_id.clone(), message });
    }

    fn socket(&self, session_id: &SessionId) -> SocketState {
        self.elsewhere.state(session_id, self.hub.has_session(session_id), Instant::now())
    }
}
