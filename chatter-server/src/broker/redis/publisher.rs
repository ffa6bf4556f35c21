//! Sending broadcasts to Redis: a bounded queue that `publish` fills without waiting,
//! and a task that sends it in pipelined batches. A batch that fails is sent again
//! once Redis answers; broadcasts that find the queue full are dropped, but for chat
//! events the newest event_seq of their chat is kept and sent later as a `Head`, so
//! other nodes still read the missing events from the store.

use super::{Shared, envelope};
use crate::broker::Broadcast;
use chatter_core::ChatId;
use chatter_core::service::Notice;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Broadcasts waiting to be sent.
const CAPACITY: usize = 65_536;
/// Broadcasts per pipelined batch.
const BATCH: usize = 512;

type Lost = Arc<Mutex<HashMap<ChatId, u64>>>;

/// The sending side, used by `publish`.
#[derive(Debug)]
pub struct Queue {
    tx: mpsc::Sender<Vec<u8>>,
    lost: Lost,
}

/// The receiving side, owned by the task.
pub struct Backlog {
    rx: mpsc::Receiver<Vec<u8>>,
    lost: Lost,
}

/// A new queue and its backlog.
pub fn queue() -> (Queue, Backlog) {
    let (tx, rx) = mpsc::channel(CAPACITY);
    let lost = Lost::default();
    (Queue { tx, lost: lost.clone() }, Backlog { rx, lost })
}

impl Queue {
    /// Waits (at most `limit`) until everything queued has been taken for sending.
    pub async fn drained(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.tx.capacity() < self.tx.max_capacity() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Queues `broadcast` from `node`; never waits.
    pub fn push(&self, node: &str, broadcast: &Broadcast) {
        let payload = match envelope::encode(node, broadcast) {
            Ok(p) => p,
            Err(e) => return tracing::error!(error = %e, "broadcast not encoded"),
        };
        if self.tx.try_send(payload).is_ok() {
            return;
        }
        let head = match broadcast {
            Broadcast::Notice(Notice::Chat(e)) => Some((&e.chat_id, e.event_seq)),
            Broadcast::Head { chat_id, event_seq } => Some((chat_id, *event_seq)),
            _ => None,
        };
        if let Some((chat, seq)) = head {
            let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
            let at = lost.entry(chat.clone()).or_default();
            *at = (*at).max(seq);
        }
    }
}

/// Sends queued broadcasts until the queue closes.
pub async fn run(shared: Arc<Shared>, mut backlog: Backlog) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if backlog.rx.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        send(&shared, &batch).await;
        batch.clear();
        let lost: Vec<(ChatId, u64)> = backlog.lost.lock().unwrap_or_else(|e| e.into_inner()).drain().collect();
        if !lost.is_empty() {
            tracing::warn!(chats = lost.len(), "broadcasts dropped on a full queue: sending their chats' heads");
            for (chat_id, event_seq) in lost {
                if let Ok(p) = envelope::encode(&shared.node, &Broadcast::Head { chat_id, event_seq }) {
                    batch.push(p);
                }
            }
            send(&shared, &batch).await;
            batch.clear();
        }
    }
}

/// Sends one batch, trying again (with growing pauses) until Redis takes it.
async fn send(shared: &Shared, batch: &[Vec<u8>]) {
    let mut pause = Duration::from_millis(50);
    let channel = shared.keys.channel();
    loop {
        let mut pipe = redis::pipe();
        for payload in batch {
            pipe.cmd("PUBLISH").arg(&channel).arg(payload).ignore();
        }
        let mut conn = shared.conn.clone();
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "publishing to Redis failed; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
}
