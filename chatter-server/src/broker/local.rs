//! The in-process broker: one node, delivering straight to its hub.

use super::{Broadcast, Broker};
use crate::realtime::Hub;
use std::sync::Arc;

/// Delivers broadcasts to this node's sockets only.
#[derive(Debug, Clone)]
pub struct LocalBroker {
    hub: Arc<Hub>,
}

impl LocalBroker {
    /// A broker over this node's hub.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

impl Broker for LocalBroker {
    fn publish(&self, broadcast: Broadcast) {
        self.hub.deliver(&broadcast);
    }
}
