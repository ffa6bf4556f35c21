//! The SFU's frames go out through the broker, so sessions and chats hear of calls on
//! whichever node their sockets are.

use super::CallSink;
use crate::broker::{Broadcast, Broker};
use crate::realtime::Hub;
use chatter_core::protocol::ws::ServerMessage;
use chatter_core::{ChatId, SessionId};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Call frames through the broker; socket presence from this node's hub, and (with
/// several nodes) from what the call front last learned of the others.
#[derive(Debug, Clone)]
pub struct BrokerCallSink {
    /// Fan-out to every node.
    pub broker: Arc<dyn Broker>,
    /// This node's sockets.
    pub hub: Arc<Hub>,
    /// Participants' sessions whose user has a socket on another node.
    pub elsewhere: Arc<Mutex<HashSet<SessionId>>>,
}

impl CallSink for BrokerCallSink {
    fn to_session(&self, session_id: &SessionId, message: ServerMessage) {
        self.broker.publish(Broadcast::ToSession { session_id: session_id.clone(), message });
    }

    fn to_chat(&self, chat_id: &ChatId, message: ServerMessage) {
        self.broker.publish(Broadcast::ToChat { chat_id: chat_id.clone(), message });
    }

    fn has_socket(&self, session_id: &SessionId) -> bool {
        self.hub.has_session(session_id)
            || self.elsewhere.lock().unwrap_or_else(|e| e.into_inner()).contains(session_id)
    }
}
