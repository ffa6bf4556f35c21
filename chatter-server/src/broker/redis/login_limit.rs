//! Failed logins counted in Redis, so that the limit holds for a username across every
//! node (with N nodes and per-node counts, N times as many guesses would pass). A key
//! `{ns}:login:{username}` counts failures and expires one window after the first.
//! While Redis cannot answer, this node's own count takes over.

use super::keys::Keys;
use chatter_core::service::{LoginLimiter, LoginThrottle};
use chatter_core::{Error, Timestamp};
use redis::aio::ConnectionManager;
use std::sync::LazyLock;
use std::time::Duration;

/// Counts a failure; the first one starts the window. Answers the count.
static FAILED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
",
    )
});

/// Login failures shared by the nodes through Redis.
pub struct RedisLoginLimiter {
    conn: ConnectionManager,
    keys: Keys,
    limit: u32,
    window: Duration,
    fallback: LoginThrottle,
}

impl std::fmt::Debug for RedisLoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLoginLimiter").field("limit", &self.limit).field("window", &self.window).finish()
    }
}

impl RedisLoginLimiter {
    /// At most `limit` failures per username within `window`.
    pub fn new(conn: ConnectionManager, keys: Keys, limit: u32, window: Duration) -> Self {
        let fallback = LoginThrottle::new(limit, window.as_micros() as i64);
        Self { conn, keys, limit, window, fallback }
    }
}

#[async_trait::async_trait]
impl LoginLimiter for RedisLoginLimiter {
    async fn check(&self, username: &str, now: Timestamp) -> Result<(), Error> {
        let answer: redis::RedisResult<(Option<u32>, i64)> = redis::pipe()
            .cmd("GET")
            .arg(self.keys.login(username))
            .cmd("PTTL")
            .arg(self.keys.login(username))
            .query_async(&mut self.conn.clone())
            .await;
        match answer {
            Ok((Some(count), left_ms)) if count >= self.limit && left_ms > 0 => {
                Err(Error::RateLimited { retry_after_secs: (left_ms as u64).div_ceil(1000).max(1) })
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "login limit: Redis unavailable, counting on this node");
                self.fallback.check(username, now)
            }
        }
    }

    async fn failed(&self, username: &str, now: Timestamp) {
        let counted: redis::RedisResult<u32> = FAILED
            .key(self.keys.login(username))
            .arg(self.window.as_millis() as u64)
            .invoke_async(&mut self.conn.clone())
            .await;
        if counted.is_err() {
            self.fallback.failed(username, now);
        }
    }

    async fn succeeded(&self, username: &str) {
        let _: redis::RedisResult<()> =
            redis::cmd("DEL").arg(self.keys.login(username)).query_async(&mut self.conn.clone()).await;
        self.fallback.succeeded(username);
    }
}
