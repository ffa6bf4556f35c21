//! One chat's live events on this node, kept once and read by every socket that follows
//! the chat. Fan-out then costs a socket one flag check per event instead of a push into
//! its queue (a lock on a cache line the socket's writer keeps taking from the other
//! core): the socket is told once that the chat has news, and its next write copies every
//! event since its cursor. The feed keeps what its slowest reader has yet to read; a
//! reader more than the queue limit behind is a slow consumer.

use super::hub::Delivered;
use chatter_core::ChatId;
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A chat's recent events, in the order they reached this node.
#[derive(Debug)]
pub struct Feed {
    chat_id: ChatId,
    log: RwLock<Log>,
    /// Entries before this index may go: every reader is past them (set after each
    /// append, applied at the next one).
    read_by_all: AtomicU64,
}

#[derive(Debug, Default)]
struct Log {
    /// The index of `entries[0]`.
    first: u64,
    entries: VecDeque<Arc<Delivered>>,
}

impl Log {
    fn next(&self) -> u64 {
        self.first + self.entries.len() as u64
    }

    fn drop_before(&mut self, index: u64) {
        let drop = index.saturating_sub(self.first).min(self.entries.len() as u64);
        self.entries.drain(..drop as usize);
        self.first += drop;
    }
}

/// One socket's place in a feed.
#[derive(Debug)]
pub struct Subscription {
    feed: Arc<Feed>,
    /// The index of the next entry to read.
    cursor: AtomicU64,
    /// The socket has been told of news it has not read yet.
    flagged: AtomicBool,
    /// Entries from this index on are not for this socket (it left the chat).
    end: AtomicU64,
}

/// Entries the reader had yet to read are gone: it fell too far behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behind;

impl Feed {
    /// An empty feed of `chat_id`.
    pub fn new(chat_id: ChatId) -> Arc<Self> {
        Arc::new(Self { chat_id, log: RwLock::default(), read_by_all: AtomicU64::new(0) })
    }

    fn read_log(&self) -> std::sync::RwLockReadGuard<'_, Log> {
        self.log.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_log(&self) -> std::sync::RwLockWriteGuard<'_, Log> {
        self.log.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A reader of the entries appended from now on.
    pub fn subscribe(self: &Arc<Self>) -> Arc<Subscription> {
        Arc::new(Subscription {
            feed: self.clone(),
            cursor: AtomicU64::new(self.read_log().next()),
            flagged: AtomicBool::new(false),
            end: AtomicU64::new(u64::MAX),
        })
    }

    /// Adds an event, first dropping what every reader has read; answers the index after
    /// the last entry.
    ///
    /// Events are kept in event_seq order: two senders' events committed one after the
    /// other can reach the hub the other way round, and every socket reading them so
    /// would see a gap and fill it from the store. Placed in order, a socket that has not
    /// read past the later one yet (nearly all: they read once per write) reads both in
    /// order; one that has fills the gap as before, and skips the entry it reads again.
    pub fn append(&self, event: Arc<Delivered>) -> u64 {
        let mut log = self.write_log();
        log.drop_before(self.read_by_all.load(Ordering::Relaxed));
        let later = log.entries.iter().rev().take_while(|e| e.event_seq > event.event_seq).count();
        let at = log.entries.len() - later;
        log.entries.insert(at, event);
        log.next()
    }

    /// Says every reader is at `index` or past it, so the next append may drop what
    /// comes before.
    pub fn read_up_to(&self, index: u64) {
        self.read_by_all.store(index, Ordering::Relaxed);
    }

    /// Drops the entries before `index` now (every reader is at it or past it).
    pub fn trim(&self, index: u64) {
        self.write_log().drop_before(index);
    }

    /// The index the next entry will have.
    pub fn next(&self) -> u64 {
        self.read_log().next()
    }

    /// Entries kept (for tests and limits).
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.read_log().entries.len()
    }
}

impl Subscription {
    /// The chat.
    pub fn chat_id(&self) -> &ChatId {
        &self.feed.chat_id
    }

    /// Marks that the feed has news for this reader; answers whether the reader must be
    /// told (it was not told since its last read).
    pub fn flag(&self) -> bool {
        !self.flagged.load(Ordering::SeqCst) && !self.flagged.swap(true, Ordering::SeqCst)
    }

    /// The index of the next entry this reader will read.
    pub fn cursor(&self) -> u64 {
        self.cursor.load(Ordering::Relaxed)
    }

    /// Ends the subscription after the entries appended so far, and answers those the
    /// reader has yet to read (they may be dropped from the feed once it stops counting
    /// this reader).
    pub fn end_here(&self) -> Vec<Arc<Delivered>> {
        let log = self.feed.read_log();
        let next = log.next();
        self.end.store(next, Ordering::SeqCst);
        let from = self.cursor().max(log.first);
        log.entries.iter().skip((from - log.first) as usize).cloned().collect()
    }

    /// Reads the entries from the cursor on, handing each to `f` until it breaks, and
    /// moves the cursor past those handed over. A reader whose unread entries were
    /// dropped (too far behind) gets `Behind`, unless it has ended: the entries it had
    /// left came with its end.
    pub fn read<B>(&self, mut f: impl FnMut(&Arc<Delivered>) -> ControlFlow<B>) -> Result<Option<B>, Behind> {
        // Cleared before reading: an append after this is flagged anew, one before it
        // is read now.
        self.flagged.store(false, Ordering::SeqCst);
        let log = self.feed.read_log();
        let end = log.next().min(self.end.load(Ordering::SeqCst));
        let mut at = self.cursor();
        if at < log.first {
            if self.end.load(Ordering::SeqCst) == u64::MAX {
                return Err(Behind);
            }
            at = log.first;
        }
        let mut outcome = None;
        while at < end {
            let entry = &log.entries[(at - log.first) as usize];
            at += 1;
            if let ControlFlow::Break(b) = f(entry) {
                outcome = Some(b);
                break;
            }
        }
        self.cursor.store(at, Ordering::Relaxed);
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn event(seq: u64) -> Arc<Delivered> {
        Arc::new(Delivered {
            chat_id: ChatId::from("c"),
            event_seq: seq,
            frame: Bytes::from(seq.to_string()),
            leaving: None,
        })
    }

    fn read_all(sub: &Subscription) -> Result<Vec<u64>, Behind> {
        let mut seen = Vec::new();
        sub.read(|d| {
            seen.push(d.event_seq);
            ControlFlow::<()>::Continue(())
        })?;
        Ok(seen)
    }

    #[test]
    fn readers_start_at_their_subscription_and_are_flagged_once_per_read() {
        let feed = Feed::new(ChatId::from("c"));
        feed.append(event(1));
        let sub = feed.subscribe();
        feed.append(event(2));
        assert!(sub.flag(), "first news is told");
        feed.append(event(3));
        assert!(!sub.flag(), "told already");
        assert_eq!(read_all(&sub), Ok(vec![2, 3]));
        assert!(sub.flag(), "told again after reading");
        assert_eq!(read_all(&sub), Ok(vec![]));
    }

    #[test]
    fn a_break_stops_after_the_entry_and_the_next_read_goes_on() {
        let feed = Feed::new(ChatId::from("c"));
        let sub = feed.subscribe();
        for seq in 1..=4 {
            feed.append(event(seq));
        }
        let stopped =
            sub.read(|d| if d.event_seq == 2 { ControlFlow::Break(d.event_seq) } else { ControlFlow::Continue(()) });
        assert_eq!(stopped, Ok(Some(2)));
        assert_eq!(read_all(&sub), Ok(vec![3, 4]));
    }

    #[test]
    fn entries_read_by_all_are_dropped_and_a_reader_behind_them_is_told() {
        let feed = Feed::new(ChatId::from("c"));
        let (fast, slow) = (feed.subscribe(), feed.subscribe());
        for seq in 1..=3 {
            feed.append(event(seq));
        }
        assert_eq!(read_all(&fast), Ok(vec![1, 2, 3]));
        feed.read_up_to(slow.cursor().min(fast.cursor()));
        feed.append(event(4));
        assert_eq!(feed.kept(), 4, "the slow reader still needs them");
        // The slow reader is given up (a slow consumer): the feed drops past it.
        feed.read_up_to(fast.cursor());
        let next = feed.append(event(5));
        assert_eq!(feed.kept(), 2);
        assert_eq!(next, 5);
        assert_eq!(read_all(&slow), Err(Behind));
        assert_eq!(read_all(&fast), Ok(vec![4, 5]));
    }

    #[test]
    fn events_arriving_out_of_order_are_read_in_order() {
        let feed = Feed::new(ChatId::from("c"));
        let (early, late) = (feed.subscribe(), feed.subscribe());
        feed.append(event(1));
        feed.append(event(3));
        assert_eq!(read_all(&late), Ok(vec![1, 3]), "read before 2 came");
        feed.append(event(2));
        feed.append(event(4));
        assert_eq!(read_all(&early), Ok(vec![1, 2, 3, 4]));
        // The late reader read 3 before 2 came (its sequencer filled 2 from the store
        // then): it reads 3 once more (skipped), then 4.
        assert_eq!(read_all(&late), Ok(vec![3, 4]));
    }

    #[test]
    fn an_ended_reader_gets_what_it_had_left_and_nothing_after() {
        let feed = Feed::new(ChatId::from("c"));
        let sub = feed.subscribe();
        feed.append(event(1));
        feed.append(event(2));
        let left: Vec<u64> = sub.end_here().iter().map(|d| d.event_seq).collect();
        assert_eq!(left, [1, 2]);
        feed.append(event(3));
        // Its entries dropped meanwhile: not an error, they came with the end.
        feed.read_up_to(3);
        feed.append(event(4));
        assert_eq!(read_all(&sub), Ok(vec![]));
        let other = feed.subscribe();
        feed.append(event(5));
        assert_eq!(read_all(&other), Ok(vec![5]));
    }
}
