//! Presence in Redis: which nodes hold a socket of which user, each node's heartbeat,
//! and the reaping of nodes that stopped beating (killed, partitioned), whose users
//! then go offline unless another node holds them. A dead node's users show offline
//! within `node_ttl` plus one beat (a fifth of it).

use super::Shared;
use super::keys::Keys;
use chatter_core::UserId;
use redis::aio::ConnectionManager;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

/// Adds or removes this node in the user's set (and the user in the node's); answers
/// {1 if the user came online, -1 if they went offline, else 0; 1 if the node was
/// missing from the node set (then it is put back, so it can be reaped if it dies)}.
static MARK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local missing = 0
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
  missing = 1
end
local change = 0
if ARGV[3] == '1' then
  local added = redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[2])
  if added == 1 and redis.call('SCARD', KEYS[1]) == 1 then change = 1 end
else
  local removed = redis.call('SREM', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[2])
  if removed == 1 and redis.call('SCARD', KEYS[1]) == 0 then change = -1 end
end
return {change, missing}
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

/// Removes a dead node (once, whoever gets there first, and only if it is still silent
/// for longer than ARGV[3] ms) and its users' marks; answers the users no node holds
/// any more.
static REAP: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not last or tonumber(last) > now - tonumber(ARGV[3]) then return {} end
redis.call('ZREM', KEYS[1], ARGV[1])
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

/// Which of `users` some node holds a socket of (one round trip).
pub async fn online_among(conn: &ConnectionManager, keys: &Keys, users: &[UserId]) -> redis::RedisResult<Vec<bool>> {
    let mut pipe = redis::pipe();
    for user in users {
        pipe.cmd("SCARD").arg(keys.online(user.as_str()));
    }
    let counts: Vec<u64> = pipe.query_async(&mut conn.clone()).await?;
    Ok(counts.into_iter().map(|n| n > 0).collect())
}

/// Records whether `node` holds a socket of `user_id`; answers the user's new presence
/// if that changed it.
pub async fn mark(
    conn: &ConnectionManager,
    keys: &Keys,
    node: &str,
    user_id: &UserId,
    here: bool,
) -> redis::RedisResult<Mark> {
    let (change, missing): (i64, i64) = MARK
        .key(keys.online(user_id.as_str()))
        .key(keys.node_users(node))
        .key(keys.nodes())
        .arg(node)
        .arg(user_id.as_str())
        .arg(if here { "1" } else { "0" })
        .invoke_async(&mut conn.clone())
        .await?;
    Ok(Mark {
        change: match change {
            1 => Some(true),
            -1 => Some(false),
            _ => None,
        },
        node_was_missing: missing == 1,
    })
}

/// What recording one user's presence on this node found.
pub struct Mark {
    /// The user's new presence, if this changed it.
    pub change: Option<bool>,
    /// The node was missing from the node set (Redis lost it, or it was reaped).
    pub node_was_missing: bool,
}

/// Beats until the node stops. Whatever the beat finds to do (writing this node's
/// users again, announcing a dead node's users offline) runs beside it, so a long list
/// never delays the next beat (which would get this node reaped in turn).
pub async fn run(shared: Arc<Shared>) {
    let every = (shared.node_ttl / 5).max(std::time::Duration::from_millis(100));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let busy = Arc::new(AtomicBool::new(false));
    loop {
        ticks.tick().await;
        match beat(&shared).await {
            Ok((missing, dead)) => {
                let dirty = missing || shared.presence_dirty.load(Ordering::Relaxed);
                if (dirty || !dead.is_empty()) && !busy.swap(true, Ordering::AcqRel) {
                    let (shared, busy) = (shared.clone(), busy.clone());
                    tokio::spawn(async move {
                        if let Err(e) = settle(&shared, dirty, dead).await {
                            tracing::warn!(error = %e, "presence upkeep failed");
                            shared.presence_dirty.store(true, Ordering::Relaxed);
                        }
                        busy.store(false, Ordering::Release);
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "presence heartbeat failed");
                shared.presence_dirty.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Records the beat; answers whether the node was missing and the silent nodes.
async fn beat(shared: &Shared) -> redis::RedisResult<(bool, Vec<String>)> {
    let ttl_ms = shared.node_ttl.as_millis() as u64;
    let (missing, dead): (i64, Vec<String>) =
        BEAT.key(shared.keys.nodes()).arg(&shared.node).arg(ttl_ms).invoke_async(&mut shared.conn.clone()).await?;
    Ok((missing == 1, dead.into_iter().filter(|n| *n != shared.node).collect()))
}

async fn settle(shared: &Shared, dirty: bool, dead: Vec<String>) -> redis::RedisResult<()> {
    if dirty {
        shared.presence_dirty.store(false, Ordering::Relaxed);
        reconcile(shared).await?;
    }
    let ttl_ms = shared.node_ttl.as_millis() as u64;
    for node in dead {
        let offline: Vec<String> = REAP
            .key(shared.keys.nodes())
            .key(shared.keys.node_users(&node))
            .arg(&node)
            .arg(shared.keys.online_prefix())
            .arg(ttl_ms)
            .invoke_async(&mut shared.conn.clone())
            .await?;
        if !offline.is_empty() {
            tracing::info!(%node, users = offline.len(), "reaped a node that stopped beating");
        }
        for user in offline {
            shared.announce(UserId::new(user), false).await;
        }
    }
    Ok(())
}

/// Takes this node out of Redis as it stops, announcing offline the users no other
/// node holds.
pub async fn leave(shared: &Shared) -> redis::RedisResult<()> {
    let offline: Vec<String> = REAP
        .key(shared.keys.nodes())
        .key(shared.keys.node_users(&shared.node))
        .arg(&shared.node)
        .arg(shared.keys.online_prefix())
        .arg(0)
        .invoke_async(&mut shared.conn.clone())
        .await?;
    for user in offline {
        shared.announce(UserId::new(user), false).await;
    }
    Ok(())
}

/// Writes this node's users to Redis again (after Redis lost them or a write failed),
/// announcing whoever that brings online or takes offline; users whose presence write
/// or announcement failed are announced as they are now.
async fn reconcile(shared: &Shared) -> redis::RedisResult<()> {
    let recorded: HashSet<String> =
        redis::cmd("SMEMBERS").arg(shared.keys.node_users(&shared.node)).query_async(&mut shared.conn.clone()).await?;
    let here: HashSet<String> = shared.hub.users().into_keys().map(|u| u.as_str().to_owned()).collect();
    for user in here.union(&recorded) {
        shared.presence_changed(UserId::new(user.clone())).await;
    }
    for user in shared.take_unsettled() {
        shared.presence_changed(user.clone()).await;
        let online = shared.is_online(&user).await;
        shared.announce(user, online).await;
    }
    Ok(())
}
