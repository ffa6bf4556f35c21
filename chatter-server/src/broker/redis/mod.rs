//! The Redis broker: broadcasts go out on one pub/sub channel that every node follows
//! (each node keeps what its own sockets need), and presence lives in Redis so that a
//! user is online while any node holds one of their sockets.
//!
//! This node's sockets get a broadcast straight from the hub, so delivery within a
//! node goes on while Redis is away. Whatever other nodes missed meanwhile they read
//! from the store once Redis is back (see `subscriber` and `publisher`).
//!
//! Keys (a standalone Redis, not a cluster: scripts touch keys of several users), all
//! under the deployment's namespace (see `keys`): `{ns}:events` (the channel),
//! `{ns}:nodes` (sorted set: node id → last heartbeat, ms), `{ns}:node:{node}:users`
//! (set: users with a socket on the node), `{ns}:online:{user}` (set: nodes holding a
//! socket of the user), `{ns}:login:{username}` (failed logins, see `login_limit`),
//! `{ns}:call:{chat_id}` and `{ns}:call-id:{call_id}` (the node hosting a call, see
//! `placement`).

mod envelope;
mod keys;
mod liveness;
mod login_limit;
mod placement;
mod publisher;
mod subscriber;

use super::presence::{UserLocks, audience};
use super::{Broadcast, Broker};
use crate::realtime::Hub;
use async_trait::async_trait;
use chatter_core::UserId;
use chatter_core::store::Store;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use thiserror::Error;
use tokio::task::AbortHandle;

pub use login_limit::RedisLoginLimiter;
pub use placement::RedisPlacement;

/// How long one Redis command may take before it counts as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the Redis broker could not start.
#[derive(Debug, Error)]
#[error("redis: {0}")]
pub struct RedisError(#[from] redis::RedisError);

/// What the broker's tasks share.
struct Shared {
    node: String,
    keys: keys::Keys,
    hub: Arc<Hub>,
    store: Arc<dyn Store>,
    conn: ConnectionManager,
    outgoing: publisher::Queue,
    locks: UserLocks,
    /// A presence write failed: the next heartbeat writes this node's users again.
    presence_dirty: AtomicBool,
    /// Users whose presence write or announcement failed: announced again as they are.
    unsettled: std::sync::Mutex<std::collections::HashSet<UserId>>,
    node_ttl: Duration,
    /// The current subscription's number (from 1), 0 while not subscribed.
    hearing: AtomicU64,
    /// Subscriptions made so far.
    subscriptions: AtomicU64,
}

/// Fan-out and presence across nodes through one Redis.
#[derive(Debug)]
pub struct RedisBroker {
    shared: Arc<Shared>,
    tasks: Vec<AbortHandle>,
}

impl Drop for RedisBroker {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl RedisBroker {
    /// Connects to Redis at `url` (or keeps trying, if it does not answer: only a bad
    /// URL is an error) and starts following the other nodes of the
    /// deployment named `namespace` (the prefix of every key). A node counts
    /// as dead `node_ttl` after its last heartbeat (it beats every fifth of that).
    pub async fn connect(
        url: &str,
        namespace: &str,
        hub: Arc<Hub>,
        store: Arc<dyn Store>,
        node_ttl: Duration,
    ) -> Result<Self, RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
            Ok(conn) => conn,
            // A node must come up while Redis is away (say, during a deploy); it keeps
            // trying, and meanwhile delivers to its own sockets.
            Err(e) => {
                tracing::warn!(error = %e, "Redis is not answering; starting anyway and trying again");
                ConnectionManager::new_lazy_with_config(client.clone(), config)?
            }
        };
        let node = format!("{:016x}", rand::random::<u64>());
        tracing::info!(%node, "following other nodes through Redis");
        let (outgoing, backlog) = publisher::queue();
        let shared = Arc::new(Shared {
            node,
            keys: keys::Keys::new(namespace),
            hub,
            store,
            conn,
            outgoing,
            locks: UserLocks::default(),
            presence_dirty: AtomicBool::new(false),
            unsettled: std::sync::Mutex::default(),
            node_ttl,
            hearing: AtomicU64::new(0),
            subscriptions: AtomicU64::new(0),
        });
        let tasks = vec![
            tokio::spawn(publisher::run(shared.clone(), backlog)).abort_handle(),
            tokio::spawn(subscriber::run(shared.clone(), client)).abort_handle(),
            tokio::spawn(liveness::run(shared.clone())).abort_handle(),
        ];
        Ok(Self { shared, tasks })
    }
}

impl RedisBroker {
    /// A login limiter on the same Redis: `limit` failures per username per `window`,
    /// counted over every node.
    pub fn login_limiter(&self, limit: u32, window: Duration) -> RedisLoginLimiter {
        RedisLoginLimiter::new(self.shared.conn.clone(), self.shared.keys.clone(), limit, window)
    }

    /// Call placement on the same Redis, for this node: records live `ttl` past their
    /// last refresh.
    pub fn placement(&self, ttl: Duration) -> RedisPlacement {
        RedisPlacement::new(self.shared.conn.clone(), self.shared.keys.clone(), self.shared.node.clone(), ttl)
    }
}

impl Shared {
    fn publish(&self, broadcast: Broadcast) {
        self.hub.deliver(&broadcast);
        self.outgoing.push(&self.node, &broadcast);
    }

    /// Whether any node holds a socket of `user_id` (this node's view if Redis is away).
    async fn is_online(&self, user_id: &UserId) -> bool {
        match liveness::is_online(&self.conn, &self.keys, user_id).await {
            Ok(online) => online,
            Err(_) => self.hub.is_online(user_id),
        }
    }

    /// Records whether this node holds a socket of `user_id`, and announces the user's
    /// presence when that changed it over all nodes.
    async fn presence_changed(&self, user_id: UserId) {
        let _turn = self.locks.lock(&user_id).await;
        let here = self.hub.is_online(&user_id);
        match liveness::mark(&self.conn, &self.keys, &self.node, &user_id, here).await {
            Ok(mark) => {
                if mark.node_was_missing {
                    self.presence_dirty.store(true, Ordering::Relaxed);
                }
                if let Some(online) = mark.change {
                    self.announce(user_id, online).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "presence not recorded in Redis");
                self.unsettle(user_id);
            }
        }
    }

    async fn announce(&self, user_id: UserId, online: bool) {
        match audience(&*self.store, &user_id).await {
            Some(audience) => {
                if self.is_online(&user_id).await == online {
                    self.publish(Broadcast::Presence { user_id, online, audience });
                }
            }
            None => self.unsettle(user_id),
        }
    }

    /// Remembers that `user_id`'s presence may be wrong somewhere, for the next beat.
    fn unsettle(&self, user_id: UserId) {
        self.unsettled.lock().unwrap_or_else(|e| e.into_inner()).insert(user_id);
        self.presence_dirty.store(true, Ordering::Relaxed);
    }

    fn take_unsettled(&self) -> Vec<UserId> {
        self.unsettled.lock().unwrap_or_else(|e| e.into_inner()).drain().collect()
    }
}

#[async_trait]
impl Broker for RedisBroker {
    fn publish(&self, broadcast: Broadcast) {
        self.shared.publish(broadcast);
    }

    async fn presence_changed(&self, user_id: UserId) {
        self.shared.presence_changed(user_id).await;
    }

    async fn online_among(&self, users: &[UserId]) -> Vec<UserId> {
        let shared = &self.shared;
        match liveness::online_among(&shared.conn, &shared.keys, users).await {
            Ok(online) => users.iter().zip(online).filter(|(_, on)| *on).map(|(u, _)| u.clone()).collect(),
            // Redis away: this node's view, as presence changes use then.
            Err(_) => users.iter().filter(|u| shared.hub.is_online(u)).cloned().collect(),
        }
    }

    fn hearing(&self) -> Option<u64> {
        Some(self.shared.hearing.load(Ordering::Acquire)).filter(|n| *n > 0)
    }

    async fn shutdown(&self) {
        if let Err(e) = liveness::leave(&self.shared).await {
            tracing::warn!(error = %e, "could not take this node out of Redis; the others will reap it");
        }
        self.shared.outgoing.drained(Duration::from_secs(2)).await;
        // The last batch is on its way once taken; give it a moment to be written.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("node", &self.node).field("hub", &self.hub).finish_non_exhaustive()
    }
}
