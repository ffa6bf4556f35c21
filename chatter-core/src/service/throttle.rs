//! Failed logins per username: past a limit within a window, every login attempt for
//! that username answers "rate limited" until the window has passed, so passwords cannot
//! be guessed faster than the limit allows.

use crate::error::Error;
use crate::time::Timestamp;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

/// Where login attempts are counted: [`LoginThrottle`] in memory for one process, or a
/// store that every node of a deployment shares (the server's Redis). An attempt counts
/// as a failure from the moment it starts until it succeeds, so parallel guesses cannot
/// pass the limit together.
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
pub trait LoginLimiter: crate::store::SendSync {
    /// Starts an attempt for `key` at `now`: `RateLimited` (with the wait) once the
    /// key's failures reached the limit within the window, else counted.
    async fn attempt(&self, key: &str, now: Timestamp) -> Result<(), Error>;
    /// The attempt succeeded: forgets the failures of `key`.
    async fn succeeded(&self, key: &str);
}

/// Counts failed logins per key (a lowercased username).
#[derive(Debug)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (Timestamp, u32)>>,
    limit: u32,
    window_micros: i64,
}

impl LoginThrottle {
    /// At most `limit` failures per key within `window_micros`.
    pub fn new(limit: u32, window_micros: i64) -> Self {
        Self { failures: Mutex::default(), limit, window_micros }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Timestamp, u32)>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `key` may try to log in at `now`.
    pub fn check(&self, key: &str, now: Timestamp) -> Result<(), Error> {
        self.refusal(&self.lock(), key, now).map_or(Ok(()), Err)
    }

    /// `RateLimited` (with the wait) if `key`'s failures reached the limit at `now`.
    fn refusal(&self, failures: &HashMap<String, (Timestamp, u32)>, key: &str, now: Timestamp) -> Option<Error> {
        let &(since, count) = failures.get(key)?;
        let elapsed = now.as_micros() - since.as_micros();
        (count >= self.limit && elapsed < self.window_micros).then(|| Error::RateLimited {
            retry_after_secs: ((self.window_micros - elapsed) / 1_000_000).max(1) as u64,
        })
    }

    /// Records a failed attempt.
    pub fn failed(&self, key: &str, now: Timestamp) {
        Self::count(&mut self.lock(), key, now, self.window_micros);
    }

    fn count(failures: &mut HashMap<String, (Timestamp, u32)>, key: &str, now: Timestamp, window: i64) {
        if failures.len() > 100_000 {
            failures.retain(|_, (since, _)| now.as_micros() - since.as_micros() < window);
        }
        let entry = failures.entry(key.to_owned()).or_insert((now, 0));
        if now.as_micros() - entry.0.as_micros() >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn succeeded(&self, key: &str) {
        self.lock().remove(key);
    }
}

#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
impl LoginLimiter for LoginThrottle {
    async fn attempt(&self, key: &str, now: Timestamp) -> Result<(), Error> {
        // Checked and counted under one lock.
        let mut failures = self.lock();
        if let Some(refused) = self.refusal(&failures, key, now) {
            return Err(refused);
        }
        Self::count(&mut failures, key, now, self.window_micros);
        Ok(())
    }

    async fn succeeded(&self, key: &str) {
        LoginThrottle::succeeded(self, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_until_the_window_passes() {
        let t = LoginThrottle::new(3, 60_000_000);
        let at = |s: i64| Timestamp::from_micros(s * 1_000_000);
        for s in 0..3 {
            assert!(t.check("alice", at(s)).is_ok());
            t.failed("alice", at(s));
        }
        assert_eq!(t.check("alice", at(10)), Err(Error::RateLimited { retry_after_secs: 50 }));
        assert!(t.check("bob", at(10)).is_ok(), "other names are not affected");
        assert!(t.check("alice", at(61)).is_ok(), "the window passed");
        t.failed("alice", at(61));
        assert!(t.check("alice", at(62)).is_ok(), "a new window starts from one failure");
        t.succeeded("alice");
        assert!(t.check("alice", at(62)).is_ok());
    }
}
