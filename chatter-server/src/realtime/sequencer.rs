//! Per-socket ordering of chat events: each chat's events go out once, in event_seq
//! order, with no gap. Live events may arrive late, twice or out of order (several
//! senders, several nodes); the sequencer says which to send, which to skip, and which
//! gap to fill from the store first.

use chatter_core::ChatId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: ids are short and not attacker-chosen keys of a shared table (each socket
/// has its own map of the chats it is in), so a fast hash beats SipHash here.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Map<V> = HashMap<ChatId, V, BuildHasherDefault<Fnv>>;

/// What to do with an incoming event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// It is the next one: send it.
    Send,
    /// Already sent, or the socket does not follow this chat: drop it.
    Skip,
    /// Events after `after` up to this one are missing: read them from the store.
    Gap {
        /// The last event sent.
        after: u64,
    },
}

/// Decides on event `event_seq` of a followed chat whose last sent event is `last`, and
/// moves `last` on when it is the next one.
pub fn accept_next(last: &mut u64, event_seq: u64) -> Decision {
    if event_seq <= *last {
        Decision::Skip
    } else if event_seq == *last + 1 {
        *last = event_seq;
        Decision::Send
    } else {
        Decision::Gap { after: *last }
    }
}

/// Per followed chat: where following started, and the last event_seq sent.
#[derive(Debug, Default)]
pub struct Sequencer {
    last: Map<u64>,
    base: Map<u64>,
}

impl Sequencer {
    /// Follows `chat` from `last_event_seq` on (replacing any earlier position).
    pub fn follow(&mut self, chat: ChatId, last_event_seq: u64) {
        self.base.insert(chat.clone(), last_event_seq);
        self.last.insert(chat, last_event_seq);
    }

    /// Where following `chat` started: events up to here were never sent live.
    pub fn base(&self, chat: &ChatId) -> Option<u64> {
        self.base.get(chat).copied()
    }

    /// Moves the start of `chat` back to `base` after replaying the events above it.
    pub fn rebase(&mut self, chat: &ChatId, base: u64) {
        if let Some(b) = self.base.get_mut(chat) {
            *b = (*b).min(base);
        }
    }

    /// Stops following `chat`.
    pub fn unfollow(&mut self, chat: &ChatId) {
        self.last.remove(chat);
        self.base.remove(chat);
    }

    /// Whether the socket follows `chat`.
    pub fn follows(&self, chat: &ChatId) -> bool {
        self.last.contains_key(chat)
    }

    /// The last event_seq sent in `chat`.
    pub fn position(&self, chat: &ChatId) -> Option<u64> {
        self.last.get(chat).copied()
    }

    /// What to do with event `event_seq` of `chat`.
    pub fn decide(&self, chat: &ChatId, event_seq: u64) -> Decision {
        match self.last.get(chat) {
            None => Decision::Skip,
            Some(&last) if event_seq <= last => Decision::Skip,
            Some(&last) if event_seq == last + 1 => Decision::Send,
            Some(&last) => Decision::Gap { after: last },
        }
    }

    /// Decides on event `event_seq` of `chat` and, when it is the next one, records it
    /// as sent, with one lookup.
    pub fn accept(&mut self, chat: &ChatId, event_seq: u64) -> Decision {
        match self.last.get_mut(chat) {
            None => Decision::Skip,
            Some(last) => accept_next(last, event_seq),
        }
    }

    /// The last event_seq sent in `chat`, to decide on a run of its events with
    /// [`accept_next`] after one lookup (the hot path of live delivery).
    pub fn last_mut(&mut self, chat: &ChatId) -> Option<&mut u64> {
        self.last.get_mut(chat)
    }

    /// Records that event `event_seq` of `chat` went out.
    pub fn sent(&mut self, chat: &ChatId, event_seq: u64) {
        if let Some(last) = self.last.get_mut(chat) {
            *last = (*last).max(event_seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_in_order_skips_repeats_and_reports_gaps() {
        let c = ChatId::new("c");
        let mut s = Sequencer::default();
        assert_eq!(s.decide(&c, 1), Decision::Skip, "unfollowed chats are dropped");
        s.follow(c.clone(), 4);
        assert_eq!(s.decide(&c, 3), Decision::Skip);
        assert_eq!(s.decide(&c, 4), Decision::Skip);
        assert_eq!(s.decide(&c, 5), Decision::Send);
        assert_eq!(s.accept(&c, 5), Decision::Send);
        assert_eq!(s.accept(&c, 5), Decision::Skip, "accept recorded it");
        assert_eq!(s.position(&c), Some(5));
        assert_eq!(s.decide(&c, 8), Decision::Gap { after: 5 });
        assert_eq!(s.accept(&c, 8), Decision::Gap { after: 5 });
        s.sent(&c, 8);
        assert_eq!(s.decide(&c, 6), Decision::Skip, "filled by the gap read");
        assert_eq!(s.position(&c), Some(8));
        s.sent(&c, 7);
        assert_eq!(s.position(&c), Some(8), "never moves back");
        assert_eq!(s.base(&c), Some(4));
        s.rebase(&c, 2);
        s.rebase(&c, 3);
        assert_eq!(s.base(&c), Some(2), "the base only moves back");
        s.unfollow(&c);
        assert!(!s.follows(&c));
        assert_eq!(s.base(&c), None);
    }
}
