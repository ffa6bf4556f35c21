//! Sending broadcasts to Redis: a bounded queue that `publish` fills without waiting,
//! and a task that sends it in pipelined batches. A batch that fails is sent again
//! once Redis answers; broadcasts that find the queue full are dropped, but for chat
//! events the newest event_seq of their chat is kept and sent later as a `Head`, so
//! other nodes still read the missing events from the store, and for membership
//! changes and revocations a `CatchUp` follows, which has every node check its sockets
//! against the store. (Lost typing and presence frames are not recovered.)

use super::{Shared, envelope};
use crate::broker::Broadcast;
use chatter_core::ChatId;
use chatter_core::model::ChatEvent;
use chatter_core::service::Notice;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Broadcasts waiting to be sent.
const CAPACITY: usize = 65_536;
/// Broadcasts per pipelined batch.
const BATCH: usize = 512;

/// What overflow dropped: chat heads, and whether anything else that matters.
#[derive(Debug, Default)]
struct Dropped {
    heads: HashMap<ChatId, u64>,
    others: bool,
}

type Lost = Arc<Mutex<Dropped>>;

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
    queue_of(CAPACITY)
}

fn queue_of(capacity: usize) -> (Queue, Backlog) {
    let (tx, rx) = mpsc::channel(capacity);
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
        let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
        match broadcast {
            Broadcast::Notice(Notice::Chat(ChatEvent { chat_id, event_seq, .. }))
            | Broadcast::Head { chat_id, event_seq } => {
                let at = lost.heads.entry(chat_id.clone()).or_default();
                *at = (*at).max(*event_seq);
            }
            Broadcast::Notice(_) | Broadcast::CatchUp => lost.others = true,
            // Ephemeral; a call's client that misses signalling leaves and joins again.
            Broadcast::Typing { .. }
            | Broadcast::Presence { .. }
            | Broadcast::ToSession { .. }
            | Broadcast::ToChat { .. }
            // The asking node times out and tells its client.
            | Broadcast::CallRequest { .. }
            | Broadcast::CallReply { .. }
            // Asked again next round; an answer counts for two.
            | Broadcast::SocketsAsked { .. }
            | Broadcast::SocketsHeld { .. } => {}
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
        let lost = std::mem::take(&mut *backlog.lost.lock().unwrap_or_else(|e| e.into_inner()));
        if !lost.heads.is_empty() || lost.others {
            tracing::warn!(chats = lost.heads.len(), "broadcasts dropped on a full queue: sending what replaces them");
            let heads = lost.heads.into_iter().map(|(chat_id, event_seq)| Broadcast::Head { chat_id, event_seq });
            for b in heads.chain(lost.others.then_some(Broadcast::CatchUp)) {
                if let Ok(p) = envelope::encode(&shared.node, &b) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chatter_core::model::ChatEventKind;
    use chatter_core::{UserId, model::Message};

    fn event(chat: &str, event_seq: u64) -> Broadcast {
        let message = Message {
            id: chatter_core::MessageId::new("m"),
            chat_id: ChatId::new(chat),
            seq: 1,
            sender_id: UserId::new("u"),
            text: "x".into(),
            client_id: None,
            reply_to: None,
            created_at: chatter_core::Timestamp::from_micros(0),
            edited_at: None,
            deleted: false,
        };
        let kind = ChatEventKind::MessageCreated { message };
        Broadcast::Notice(Notice::Chat(ChatEvent { chat_id: ChatId::new(chat), event_seq, kind }))
    }

    #[test]
    fn overflow_keeps_chat_heads_and_notes_lost_membership_changes_but_not_typing() {
        let (queue, backlog) = queue_of(1);
        queue.push("n", &event("c1", 1));
        queue.push("n", &event("c1", 2));
        queue.push("n", &event("c1", 3));
        queue.push("n", &Broadcast::Typing { chat_id: ChatId::new("c2"), user_id: UserId::new("u") });
        {
            let lost = backlog.lost.lock().unwrap();
            assert_eq!(lost.heads.get(&ChatId::new("c1")), Some(&3));
            assert!(!lost.others, "typing is not worth a catch-up");
        }
        let removed = Notice::ChatRemoved { user_id: UserId::new("u"), chat_id: ChatId::new("c2") };
        queue.push("n", &Broadcast::Notice(removed));
        assert!(backlog.lost.lock().unwrap().others, "a lost membership change asks for a catch-up");
    }
}
