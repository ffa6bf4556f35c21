//! Call placement in Redis: `{ns}:call:{chat_id}` and `{ns}:call-id:{call_id}` name the
//! node hosting a call. A node claims a chat's call with SET NX (one claim wins), keeps
//! its records alive while the call runs (they expire `ttl` after the last refresh, so
//! a dead node's calls are forgotten), and deletes them when the call ends.

use super::keys::Keys;
use crate::sfu::{Placement, SfuError};
use async_trait::async_trait;
use chatter_core::{CallId, ChatId, UserId};
use redis::aio::ConnectionManager;
use std::collections::HashSet;
use std::sync::LazyLock;
use std::time::Duration;

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
        redis::cmd("GET")
            .arg(self.keys.call(chat_id.as_str()))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)
    }

    async fn host_of_call(&self, call_id: &CallId) -> Result<Option<String>, SfuError> {
        redis::cmd("GET")
            .arg(self.keys.call_id(call_id.as_str()))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)
    }

    async fn hold(&self, calls: &[(ChatId, CallId)]) -> Result<(), SfuError> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (chat_id, call_id) in calls {
            pipe.cmd("SET").arg(self.keys.call(chat_id.as_str())).arg(&self.node).arg("PX").arg(self.millis()).ignore();
            pipe.cmd("SET")
                .arg(self.keys.call_id(call_id.as_str()))
                .arg(&self.node)
                .arg("PX")
                .arg(self.millis())
                .ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone()).await.map_err(unavailable)
    }

    async fn release(&self, chat_id: &ChatId, call_id: &CallId) {
        let released: redis::RedisResult<i64> = RELEASE
            .key(self.keys.call(chat_id.as_str()))
            .key(self.keys.call_id(call_id.as_str()))
            .arg(&self.node)
            .invoke_async(&mut self.conn.clone())
            .await;
        if let Err(e) = released {
            tracing::debug!(error = %e, "call records left to expire");
        }
    }

    async fn online(&self, users: &[UserId]) -> Result<HashSet<UserId>, SfuError> {
        let mut pipe = redis::pipe();
        for user in users {
            pipe.cmd("SCARD").arg(self.keys.online(user.as_str()));
        }
        let counts: Vec<u64> = pipe.query_async(&mut self.conn.clone()).await.map_err(unavailable)?;
        Ok(users.iter().zip(counts).filter(|(_, n)| *n > 0).map(|(u, _)| u.clone()).collect())
    }
}
