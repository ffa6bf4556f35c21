//! A socket's bounded outgoing queue. The hub pushes, the socket's writer takes
//! everything at once. Pushing wakes the writer only while it waits for items: a writer
//! resting between coalesced flushes is not woken per event, and a busy socket costs
//! one lock per flush rather than queue operations per event.

use super::hub::Outbound;
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;

/// The queue is full: its socket is a slow consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

#[derive(Debug, Default)]
struct Queue {
    items: VecDeque<Outbound>,
    /// The writer found the queue empty and waits to be told of the next item.
    waiting: bool,
}

/// A bounded queue of frames for one socket.
#[derive(Debug)]
pub struct Outbox {
    queue: Mutex<Queue>,
    ready: Notify,
    capacity: usize,
}

impl Outbox {
    /// An empty outbox holding at most `capacity` items.
    pub fn new(capacity: usize) -> Self {
        Self { queue: Mutex::default(), ready: Notify::new(), capacity: capacity.max(1) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item`, or refuses it when the queue is full.
    pub fn push(&self, item: Outbound) -> Result<(), Full> {
        let wake = {
            let mut queue = self.lock();
            if queue.items.len() >= self.capacity {
                return Err(Full);
            }
            queue.items.push_back(item);
            std::mem::take(&mut queue.waiting)
        };
        if wake {
            // Stores a permit if the writer is between its check and its wait.
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Moves every queued item to the end of `into`; answers whether there were any.
    pub fn take_all(&self, into: &mut VecDeque<Outbound>) -> bool {
        let mut queue = self.lock();
        if queue.items.is_empty() {
            return false;
        }
        if into.is_empty() {
            std::mem::swap(&mut queue.items, into);
        } else {
            into.append(&mut queue.items);
        }
        true
    }

    /// Waits until an item is queued (at once if one is). May wake without one; the
    /// caller takes what there is and waits again.
    pub async fn ready(&self) {
        {
            let mut queue = self.lock();
            if !queue.items.is_empty() {
                return;
            }
            queue.waiting = true;
        }
        self.ready.notified().await;
    }

    /// Whether nothing is queued.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.lock().items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Duration;

    fn frame(n: u8) -> Outbound {
        Outbound::Frame(Bytes::from(vec![n]))
    }

    #[test]
    fn refuses_beyond_capacity_and_hands_over_in_order() {
        let outbox = Outbox::new(2);
        assert_eq!(outbox.push(frame(1)), Ok(()));
        assert_eq!(outbox.push(frame(2)), Ok(()));
        assert_eq!(outbox.push(frame(3)), Err(Full));
        let mut taken = VecDeque::new();
        assert!(outbox.take_all(&mut taken));
        assert!(outbox.is_empty());
        let bytes: Vec<u8> = taken
            .iter()
            .map(|o| match o {
                Outbound::Frame(b) => b[0],
                _ => 0,
            })
            .collect();
        assert_eq!(bytes, [1, 2]);
        assert!(!outbox.take_all(&mut taken), "nothing left");
        assert_eq!(outbox.push(frame(4)), Ok(()), "room again after taking");
    }

    #[tokio::test]
    async fn a_waiting_writer_is_woken_by_the_next_push() {
        let outbox = std::sync::Arc::new(Outbox::new(8));
        let waiter = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.ready().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        outbox.push(frame(1)).expect("room");
        tokio::time::timeout(Duration::from_secs(2), waiter).await.expect("woken").expect("joined");
        // Ready at once while something is queued.
        tokio::time::timeout(Duration::from_millis(100), outbox.ready()).await.expect("ready");
    }

    #[tokio::test]
    async fn a_push_between_the_check_and_the_wait_is_not_lost() {
        let outbox = Outbox::new(8);
        let ready = outbox.ready();
        tokio::pin!(ready);
        // Polled once: it found the queue empty and registered as waiting.
        assert!(futures::FutureExt::now_or_never(ready.as_mut()).is_none());
        outbox.push(frame(1)).expect("room");
        tokio::time::timeout(Duration::from_secs(2), ready).await.expect("woken");
    }
}
