//! The send queue in `localStorage`, one queue per tab.

use super::{local_storage, web_locks};
use crate::error::{Result, SdkError};
use crate::send_queue::{QueuedSend, SendQueueStore};
use std::sync::atomic::{AtomicBool, Ordering};

/// Keeps the send queue in the browser's `localStorage`, so messages written offline
/// survive a reload or a closed tab.
///
/// Each tab keeps its own queue under its own key and holds a Web Lock of that name
/// while it lives, so two tabs never overwrite each other's unsent messages. When a tab
/// starts, it takes over the queues of tabs that are gone (their locks are free), under
/// an origin-wide lock so only one tab takes each. The messages keep their idempotency
/// keys, so one sent twice is still stored once. Without Web Locks (very old browsers)
/// the tabs share one queue, the last to save winning.
///
/// ```no_run
/// # async fn demo() -> chatter_sdk::Result<()> {
/// use chatter_sdk::send_queue::BrowserSendQueueStore;
/// let client = chatter_sdk::Client::builder()
///     .server("https://chat.example.org")
///     .send_queue_store(BrowserSendQueueStore::new("main"))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BrowserSendQueueStore {
    /// `chatter.send_queue.<name>.`: every tab's key starts with it.
    prefix: String,
    /// This tab's key, and the name of the lock it holds.
    key: String,
    /// Whether this tab holds its lock (from its first load).
    holding: AtomicBool,
}

impl BrowserSendQueueStore {
    /// A store for queues under keys `chatter.send_queue.<name>.<tab>`.
    ///
    /// ```no_run
    /// let store = chatter_sdk::send_queue::BrowserSendQueueStore::new("main");
    /// ```
    pub fn new(name: &str) -> Self {
        let prefix = format!("chatter.send_queue.{name}.");
        let key = if web_locks::available() {
            format!("{prefix}{:016x}", crate::platform::random_u64())
        } else {
            format!("{prefix}shared")
        };
        Self { prefix, key, holding: AtomicBool::new(false) }
    }

    /// The adoption lock's name: not a key's, so no tab mistakes it for a queue.
    fn adoption_lock(&self) -> String {
        format!("{}adopting", self.prefix.trim_end_matches('.'))
    }
}

fn parse(key: &str, json: &str) -> Vec<QueuedSend> {
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(error = %e, key, "an unreadable saved send queue was dropped");
        Vec::new()
    })
}

#[async_trait::async_trait(?Send)]
impl SendQueueStore for BrowserSendQueueStore {
    async fn load(&self) -> Result<Vec<QueuedSend>> {
        if !web_locks::available() {
            return Ok(local_storage::get(&self.key)?.map(|j| parse(&self.key, &j)).unwrap_or_default());
        }
        if !self.holding.swap(true, Ordering::SeqCst) {
            web_locks::hold_until_unload(&self.key).await?;
        }
        let in_use = web_locks::names_in_use().await?;
        let (prefix, own) = (self.prefix.clone(), self.key.clone());
        let adopted = web_locks::with_lock(&self.adoption_lock(), move || -> Result<Vec<QueuedSend>> {
            let mut queue = local_storage::get(&own)?.map(|j| parse(&own, &j)).unwrap_or_default();
            let orphans = local_storage::keys_with_prefix(&prefix)?;
            let mut took = false;
            for key in orphans.iter().filter(|k| **k != own && !in_use.contains(*k)) {
                if let Some(json) = local_storage::get(key)? {
                    queue.extend(parse(key, &json));
                    took = true;
                }
                local_storage::remove(key)?;
            }
            if took {
                // Oldest first across the tabs, each tab's order kept.
                queue.sort_by_key(|q| q.created_at);
                let json = serde_json::to_string(&queue).map_err(|e| SdkError::Storage(e.to_string()))?;
                local_storage::set(&own, &json)?;
            }
            Ok(queue)
        })
        .await??;
        Ok(adopted)
    }

    async fn save(&self, queue: &[QueuedSend]) -> Result<()> {
        if queue.is_empty() {
            return local_storage::remove(&self.key);
        }
        let json = serde_json::to_string(queue).map_err(|e| SdkError::Storage(e.to_string()))?;
        local_storage::set(&self.key, &json)
    }
}
