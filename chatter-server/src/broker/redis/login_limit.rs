//! Login attempts counted in Redis, so that the limit holds for a username across every
//! node (with N nodes and per-node counts, N times as many guesses would pass). A key
//! `{ns}:login:{username}` counts attempts (until one succeeds) and expires one window
//! after the first; the check and the count are one script, so parallel guesses on
//! several nodes cannot pass the limit together.
//! While Redis cannot answer, this node's own count takes over.

use super::keys::Keys;
use chatter_core::service::{LoginLimiter, LoginThrottle};
use chatter_core::{Error, Timestamp};
use redis::aio::ConnectionManager;
use std::sync::LazyLock;
use std::time::Duration;

/// Counts an attempt (the first starts the window); answers the count before it and
/// the window's remaining ms. Past the limit nothing is counted.
static ATTEMPT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[2]) then return {n, redis.call('PTTL', KEYS[1])} end
redis.call('INCR', KEYS[1])
if n == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
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
    async fn attempt(&self, username: &str, now: Timestamp) -> Result<(), Error> {
        let counted: redis::RedisResult<(u32, i64)> = ATTEMPT
            .key(self.keys.login(username))
            .arg(self.window.as_millis() as u64)
            .arg(self.limit)
            .invoke_async(&mut self.conn.clone())
            .await;
        match counted {
            Ok((before, left_ms)) if before >= self.limit => {
                Err(Error::RateLimited { retry_after_secs: (left_ms.max(0) as u64).div_ceil(1000).max(1) })
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "login limit: Redis unavailable, counting on this node");
                self.fallback.attempt(username, now).await
            }
        }
    }

    async fn succeeded(&self, username: &str) {
        let _: redis::RedisResult<()> =
            redis::cmd("DEL").arg(self.keys.login(username)).query_async(&mut self.conn.clone()).await;
        LoginLimiter::succeeded(&self.fallback, username).await;
    }
}
