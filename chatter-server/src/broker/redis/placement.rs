//! Call placement in Redis: `{ns}:call:{chat_id}` and `{ns}:call-id:{call_id}` name the
//! node hosting a call. A node claims a chat's call with SET NX (one claim wins), keeps
//! its records alive while the call runs (they expire `ttl` after the last refresh, so
//! a dead node's calls are forgotten), and deletes them when the call ends.

use super::keys::Keys;
use crate::sfu::{Placement, SfuError};
use async_trait::async_trait;
use chatter_core::{CallId, ChatId};
use redis::aio::ConnectionManager;
use std::sync::LazyLock;
use std::time::Duration;

/// Renews records that name this node or nobody (never another node's claim).
static HOLD: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v == false or v == ARGV[1] then redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) end
end
return 0
",
    )
});

/// Deletes a record only if it still names this node.
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0
",
    )
});

/// Call records shared by the nodes through Redis.
#[derive(Clone)]
pub struct RedisPlacement {
    conn: ConnectionManager,
    keys: Keys,
    node: String,
    ttl: Duration,
}

impl std::fmt::Debug for RedisPlacement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPlacement").field("node", &self.node).field("ttl", &self.ttl).finish()
    }
}

fn unavailable(e: redis::RedisError) -> SfuError {
    SfuError::Unavailable(format!("call placement: {e}"))
}

impl RedisPlacement {
    /// Records of `node`, living `ttl` past their last refresh.
    pub fn new(conn: ConnectionManager, keys: Keys, node: String, ttl: Duration) -> Self {
        Self { conn, keys, node, ttl }
    }

    /// The node a record names.
    async fn node_in(&self, key: String) -> Result<Option<String>, SfuError> {
        redis::cmd("GET").arg(key).query_async(&mut self.conn.clone()).await.map_err(unavailable)
    }

    fn millis(&self) -> u64 {
        self.ttl.as_millis().max(1) as u64
    }
}

#[async_trait]
impl Placement for RedisPlacement {
    fn node(&self) -> &str {
        &self.node
    }

    async fn claim(&self, chat_id: &ChatId) -> Result<String, SfuError> {
        let key = self.keys.call(chat_id.as_str());
        for _ in 0..3 {
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(&self.node)
                .arg("NX")
                .arg("PX")
                .arg(self.millis())
                .query_async(&mut self.conn.clone())
                .await
                .map_err(unavailable)?;
            if set.is_some() {
                return Ok(self.node.clone());
            }
            // Another node holds it, unless its record expired between the two commands.
            if let Some(host) = self.host_of_chat(chat_id).await? {
                return Ok(host);
            }
        }
        Err(SfuError::Unavailable("the call's placement keeps changing".into()))
    }

    async fn host_of_chat(&self, chat_id: &ChatId) -> Result<Option<String>, SfuError> {
        self.node_in(self.keys.call(chat_id.as_str())).await
    }

    async fn host_of_call(&self, call_id: &CallId) -> Result<Option<String>, SfuError> {
        self.node_in(self.keys.call_id(call_id.as_str())).await
    }

    async fn hold(&self, calls: &[(ChatId, CallId)]) -> Result<(), SfuError> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut script = HOLD.key(self.keys.call(calls[0].0.as_str()));
        for (i, (chat_id, call_id)) in calls.iter().enumerate() {
            if i > 0 {
                script.key(self.keys.call(chat_id.as_str()));
            }
            script.key(self.keys.call_id(call_id.as_str()));
        }
        script.arg(&self.node).arg(self.millis());
        script.invoke_async::<i64>(&mut self.conn.clone()).await.map(|_| ()).map_err(unavailable)
    }

    async fn release(&self, chat_id: Option<&ChatId>, call_id: &CallId) {
        let mut script = RELEASE.key(self.keys.call_id(call_id.as_str()));
        if let Some(chat_id) = chat_id {
            script.key(self.keys.call(chat_id.as_str()));
        }
        let released: redis::RedisResult<i64> = script.arg(&self.node).invoke_async(&mut self.conn.clone()).await;
        if let Err(e) = released {
            tracing::debug!(error = %e, "call records left to expire");
        }
    }
}
