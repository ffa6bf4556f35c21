//! Sends waiting for the server, kept in order and persisted so they survive a restart
//! of the app. Each carries its `client_id`, so a send retried after a lost answer is
//! stored once.

#[cfg_attr(target_family = "wasm", allow(unused_imports))]
use crate::error::{Result, SdkError};
use crate::platform::{SendOutsideWasm, SyncOutsideWasm};
use chatter_core::{ChatId, MessageId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

#[cfg(target_family = "wasm")]
pub use crate::browser::BrowserSendQueueStore;

/// A message waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(all(feature = "tsify", target_family = "wasm"), derive(tsify::Tsify))]
///
/// ```no_run
/// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
/// for queued in client.queued_sends() {
///     println!("{} waits to go to {}", queued.text, queued.chat_id);
/// }
/// # Ok(()) }
/// ```
pub struct QueuedSend {
    /// The chat.
    pub chat_id: ChatId,
    /// The idempotency key the server stores with the message.
    pub client_id: String,
    /// The text.
    pub text: String,
    /// The message it answers.
    pub reply_to: Option<MessageId>,
    /// When the user sent it.
    pub created_at: Timestamp,
    /// The user who sent it: a queue is never sent as another user.
    #[serde(default)]
    pub sender_id: Option<UserId>,
}

/// Where the queue is kept between runs of the app. The client saves the whole queue
/// after every change (it is short: what the user sent while offline).
///
/// ```
/// use chatter_sdk::send_queue::{MemorySendQueueStore, SendQueueStore};
/// # futures::executor::block_on(async {
/// let store = MemorySendQueueStore::default();
/// assert!(store.load().await.unwrap().is_empty());
/// # });
/// ```
#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
pub trait SendQueueStore: SendOutsideWasm + SyncOutsideWasm + std::fmt::Debug {
    /// The saved queue, oldest first.
    async fn load(&self) -> Result<Vec<QueuedSend>>;
    /// Replaces the saved queue.
    async fn save(&self, queue: &[QueuedSend]) -> Result<()>;
}

/// Keeps the queue in memory: it survives reconnects, not a restart of the app.
#[derive(Debug, Default)]
///
/// ```no_run
/// # fn demo() {
/// let builder = chatter_sdk::Client::builder()
///     .server("http://127.0.0.1:8080")
///     .send_queue_store(chatter_sdk::send_queue::MemorySendQueueStore::default());
/// # }
/// ```
pub struct MemorySendQueueStore {
    queue: Mutex<Vec<QueuedSend>>,
}

#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
impl SendQueueStore for MemorySendQueueStore {
    async fn load(&self) -> Result<Vec<QueuedSend>> {
        Ok(self.queue.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    async fn save(&self, queue: &[QueuedSend]) -> Result<()> {
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) = queue.to_vec();
        Ok(())
    }
}

/// Keeps the queue in a JSON file.
#[cfg(not(target_family = "wasm"))]
#[derive(Debug, Clone)]
///
/// ```no_run
/// # async fn demo() -> chatter_sdk::Result<()> {
/// use chatter_sdk::send_queue::FileSendQueueStore;
/// let client = chatter_sdk::Client::builder()
///     .server("http://127.0.0.1:8080")
///     .send_queue_store(FileSendQueueStore::new("outbox.json"))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
pub struct FileSendQueueStore {
    path: std::path::PathBuf,
}

#[cfg(not(target_family = "wasm"))]
impl FileSendQueueStore {
    /// A store in the file at `path` (its folder must exist).
    ///
    /// ```no_run
    /// # fn demo() {
    /// let store = chatter_sdk::send_queue::FileSendQueueStore::new("outbox.json");
    /// # }
    /// ```
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[cfg(not(target_family = "wasm"))]
#[async_trait::async_trait]
impl SendQueueStore for FileSendQueueStore {
    async fn load(&self) -> Result<Vec<QueuedSend>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SdkError::Storage(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(SdkError::Storage(e.to_string())),
        }
    }

    async fn save(&self, queue: &[QueuedSend]) -> Result<()> {
        let bytes = serde_json::to_vec(queue).map_err(|e| SdkError::Storage(e.to_string()))?;
        crate::session::write_private(&self.path, &bytes).map_err(|e| SdkError::Storage(e.to_string()))
    }
}
