//! The in-process broker: one node, delivering straight to its hub.

use super::presence::{UserLocks, audience};
use super::{Broadcast, Broker};
use crate::realtime::Hub;
use async_trait::async_trait;
use chatter_core::UserId;
use chatter_core::store::Store;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Delivers broadcasts to this node's sockets only; a user is online while this node
/// holds one of their sockets.
pub struct LocalBroker {
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    /// Users last announced online.
    online: Mutex<HashSet<UserId>>,
    locks: UserLocks,
}

impl LocalBroker {
    /// A broker over this node's hub; presence audiences come from `store`.
    pub fn new(hub: Arc<Hub>, store: Arc<dyn Store>) -> Self {
        Self { hub, store, online: Mutex::default(), locks: UserLocks::default() }
    }
}

#[async_trait]
impl Broker for LocalBroker {
    fn publish(&self, broadcast: Broadcast) {
        self.hub.deliver(&broadcast);
    }

    async fn online_among(&self, users: &[UserId]) -> Vec<UserId> {
        users.iter().filter(|u| self.hub.is_online(u)).cloned().collect()
    }

    async fn presence_changed(&self, user_id: UserId) {
        let _turn = self.locks.lock(&user_id).await;
        let here = self.hub.is_online(&user_id);
        let changed = {
            let mut online = self.online.lock().unwrap_or_else(|e| e.into_inner());
            if here { online.insert(user_id.clone()) } else { online.remove(&user_id) }
        };
        if changed
            && let Some(audience) = audience(&*self.store, &user_id).await
            && self.hub.is_online(&user_id) == here
        {
            self.publish(Broadcast::Presence { user_id, online: here, audience });
        }
    }
}

impl std::fmt::Debug for LocalBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBroker").field("hub", &self.hub).finish_non_exhaustive()
    }
}
