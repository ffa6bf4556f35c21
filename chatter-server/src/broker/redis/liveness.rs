//! Presence in Redis: which nodes hold a socket of which user, each node's heartbeat,
//! and the reaping of nodes that stopped beating (killed, partitioned), whose users
//! then go offline unless another node holds them. A dead node's users show offline
//! within `node_ttl` plus one beat (a fifth of it).

use super::Shared;
use super::keys::Keys;
use chatter_core::UserId;
use redis::aio::ConnectionManager;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};

/// Adds or removes this node in the user's set (and the user in the node's); answers
/// 1 if the user came online, -1 if they went offline, 0 otherwise.
static MARK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if ARGV[3] == '1' then
  local added = redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[2])
  if added == 1 and redis.call('SCARD', KEYS[1]) == 1 then return 1 end
else
  local removed = redis.call('SREM', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[2])
  if removed == 1 and redis.call('SCARD', KEYS[1]) == 0 then return -1 end
end
return 0
",
    )
});

/// Records the node's heartbeat at Redis's clock; answers whether the node was
/// missing (Redis restarted, or others reaped it) and the nodes silent for longer
/// than ARGV[2] ms.
static BEAT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local new = redis.call('ZADD', KEYS[1], now, ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return {new, dead}
",
    )
});

/// Removes a dead node (once, whoever gets there first) and its users' marks;
/// answers the users no node holds any more.
static REAP: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return {} end
local offline = {}
for _, user in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key = ARGV[2] .. user
  redis.call('SREM', key, ARGV[1])
  if redis.call('SCARD', key) == 0 then table.insert(offline, user) end
end
redis.call('DEL', KEYS[2])
return offline
",
    )
});

/// Whether any node holds a socket of `user_id`.
pub async fn is_online(conn: &ConnectionManager, keys: &Keys, user_id: &UserId) -> redis::RedisResult<bool> {
    let count: u64 = redis::cmd("SCARD").arg(keys.online(user_id.as_str())).query_async(&mut conn.clone()).await?;
    Ok(count > 0)
}

/// Records whether `node` holds a socket of `user_id`; answers the user's new presence
/// if that changed it.
pub async fn mark(
    conn: &ConnectionManager,
    keys: &Keys,
    node: &str,
    user_id: &UserId,
    here: bool,
) -> redis::RedisResult<Option<bool>> {
    let change: i64 = MARK
        .key(keys.online(user_id.as_str()))
        .key(keys.node_users(node))
        .arg(node)
        .arg(user_id.as_str())
        .arg(if here { "1" } else { "0" })
        .invoke_async(&mut conn.clone())
        .await?;
    Ok(match change {
        1 => Some(true),
        -1 => Some(false),
        _ => None,
    })
}

/// Beats until the node stops.
pub async fn run(shared: Arc<Shared>) {
    let every = (shared.node_ttl / 5).max(std::time::Duration::from_millis(100));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = beat(&shared).await {
            tracing::warn!(error = %e, "presence heartbeat failed");
            shared.presence_dirty.store(true, Ordering::Relaxed);
        }
    }
}

async fn beat(shared: &Shared) -> redis::RedisResult<()> {
    let ttl_ms = shared.node_ttl.as_millis() as u64;
    let (missing, dead): (i64, Vec<String>) =
        BEAT.key(shared.keys.nodes()).arg(&shared.node).arg(ttl_ms).invoke_async(&mut shared.conn.clone()).await?;
    if missing == 1 || shared.presence_dirty.swap(false, Ordering::Relaxed) {
        reconcile(shared).await?;
    }
    for node in dead.into_iter().filter(|n| *n != shared.node) {
        let offline: Vec<String> = REAP
            .key(shared.keys.nodes())
            .key(shared.keys.node_users(&node))
            .arg(&node)
            .arg(shared.keys.online_prefix())
            .invoke_async(&mut shared.conn.clone())
            .await?;
        tracing::info!(%node, users = offline.len(), "reaped a node that stopped beating");
        for user in offline {
            shared.announce(UserId::new(user), false).await;
        }
    }
    Ok(())
}

/// Writes this node's users to Redis again (after Redis lost them or a write failed),
/// announcing whoever that brings online or takes offline.
async fn reconcile(shared: &Shared) -> redis::RedisResult<()> {
    let recorded: HashSet<String> =
        redis::cmd("SMEMBERS").arg(shared.keys.node_users(&shared.node)).query_async(&mut shared.conn.clone()).await?;
    let here: HashSet<String> = shared.hub.online_users().into_iter().map(|u| u.as_str().to_owned()).collect();
    for user in here.union(&recorded) {
        shared.presence_changed(UserId::new(user.clone())).await;
    }
    Ok(())
}
