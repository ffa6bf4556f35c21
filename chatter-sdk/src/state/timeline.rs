//! One chat's loaded messages and local echoes, and the observable items built from them.

use crate::error::SdkError;
use crate::send_queue::QueuedSend;
use crate::timeline::{SendState, TimelineItem};
use chatter_core::model::Message;
use chatter_core::{MessageId, UserId};
use eyeball_im::ObservableVector;
use std::collections::BTreeMap;

/// Diffs a subscriber may lag behind before it gets a reset instead.
const DIFF_BUFFER: usize = 1024;

/// A contiguous window of a chat's messages (from some seq to the newest), then the
/// user's unsent messages in send order.
pub(crate) struct TimelineState {
    messages: BTreeMap<u64, Message>,
    /// Unsent (pending or failed) messages, by client_id, in send order.
    echoes: Vec<TimelineItem>,
    pub(crate) reached_start: bool,
    /// The newest page has been read (live messages may have come in before).
    pub(crate) loaded: bool,
    pub(crate) items: ObservableVector<TimelineItem>,
}

impl std::fmt::Debug for TimelineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimelineState")
            .field("messages", &self.messages.len())
            .field("echoes", &self.echoes.len())
            .finish()
    }
}

/// Whether `new` is the same message in a state at least as recent as `old` (edits are
/// ordered by `edited_at`; a deletion is final).
fn newer_or_same(old: &Message, new: &Message) -> bool {
    if old.deleted {
        return new.deleted;
    }
    new.deleted || new.edited_at >= old.edited_at
}

impl TimelineState {
    pub(crate) fn new() -> Self {
        Self {
            messages: BTreeMap::new(),
            echoes: Vec::new(),
            reached_start: false,
            loaded: false,
            items: ObservableVector::with_capacity(DIFF_BUFFER),
        }
    }

    /// The lowest loaded seq.
    pub(crate) fn first_seq(&self) -> Option<u64> {
        self.messages.keys().next().copied()
    }

    /// The highest loaded seq.
    pub(crate) fn last_seq(&self) -> Option<u64> {
        self.messages.keys().next_back().copied()
    }

    fn index_of_seq(&self, seq: u64) -> usize {
        self.messages.range(..seq).count()
    }

    /// Adds or updates a message (keeping the newer state of an edit or deletion).
    /// Messages older than the window's start are not part of it and are ignored unless
    /// `extend_back` (a page read backwards).
    pub(crate) fn upsert(&mut self, message: Message, extend_back: bool) {
        let seq = message.seq;
        if let Some(old) = self.messages.get(&seq) {
            if old == &message || !newer_or_same(old, &message) {
                return;
            }
            let index = self.index_of_seq(seq);
            self.messages.insert(seq, message.clone());
            self.items.set(index, TimelineItem::remote(message));
            return;
        }
        if !extend_back && self.first_seq().is_some_and(|first| seq < first) {
            return;
        }
        let index = self.index_of_seq(seq);
        self.messages.insert(seq, message.clone());
        self.items.insert(index, TimelineItem::remote(message));
    }

    /// Marks message `seq` deleted, if loaded.
    pub(crate) fn delete(&mut self, message_id: &MessageId, seq: u64) {
        let Some(old) = self.messages.get(&seq) else { return };
        if old.deleted || &old.id != message_id {
            return;
        }
        let mut message = old.clone();
        message.deleted = true;
        message.text.clear();
        self.upsert(message, false);
    }

    /// Shows a message the user is sending.
    pub(crate) fn add_echo(&mut self, send: &QueuedSend, sender: &UserId) {
        if self.echoes.iter().any(|e| e.client_id.as_deref() == Some(&send.client_id)) {
            return;
        }
        let item = TimelineItem::local(send, sender.clone());
        self.echoes.push(item.clone());
        self.items.push_back(item);
    }

    fn echo_index(&self, client_id: &str) -> Option<usize> {
        self.echoes.iter().position(|e| e.client_id.as_deref() == Some(client_id))
    }

    /// Changes the state of the echo of `client_id`.
    pub(crate) fn set_echo_state(&mut self, client_id: &str, state: SendState) {
        let Some(i) = self.echo_index(client_id) else { return };
        self.echoes[i].send_state = state;
        let item = self.echoes[i].clone();
        self.items.set(self.messages.len() + i, item);
    }

    /// Removes the echo of `client_id` (it was sent, or the user gave it up).
    pub(crate) fn remove_echo(&mut self, client_id: &str) {
        let Some(i) = self.echo_index(client_id) else { return };
        self.echoes.remove(i);
        self.items.remove(self.messages.len() + i);
    }

    /// Marks the echo of `client_id` failed.
    pub(crate) fn fail_echo(&mut self, client_id: &str, error: SdkError) {
        let retryable = error.is_retryable();
        self.set_echo_state(client_id, SendState::Failed { error, retryable });
    }

    /// Forgets every loaded message (the chat was reset); echoes stay.
    pub(crate) fn clear_messages(&mut self) {
        for _ in 0..self.messages.len() {
            self.items.pop_front();
        }
        self.messages.clear();
        self.reached_start = false;
        self.loaded = false;
    }

    /// The loaded messages in seq order (for tests and the timeline's accessors).
    pub(crate) fn messages(&self) -> impl Iterator<Item = &Message> {
        self.messages.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatter_core::{ChatId, Timestamp};

    fn message(seq: u64, text: &str, edited: Option<i64>) -> Message {
        Message {
            id: MessageId::new(format!("m{seq}")),
            chat_id: ChatId::new("c"),
            seq,
            sender_id: UserId::new("u"),
            text: text.into(),
            client_id: None,
            reply_to: None,
            created_at: Timestamp::from_micros(seq as i64),
            edited_at: edited.map(Timestamp::from_micros),
            deleted: false,
        }
    }

    fn texts(t: &TimelineState) -> Vec<String> {
        t.items.iter().map(|i| i.text.clone()).collect()
    }

    #[test]
    fn messages_stay_in_seq_order_with_echoes_last_and_old_edits_lose() {
        let mut t = TimelineState::new();
        t.upsert(message(5, "five", None), false);
        t.upsert(message(6, "six", None), false);
        let send = QueuedSend {
            chat_id: ChatId::new("c"),
            client_id: "k".into(),
            text: "mine".into(),
            reply_to: None,
            created_at: Timestamp::from_micros(9),
        };
        t.add_echo(&send, &UserId::new("me"));
        t.upsert(message(7, "seven", None), false);
        assert_eq!(texts(&t), ["five", "six", "seven", "mine"]);
        t.upsert(message(3, "three", None), false);
        assert_eq!(texts(&t), ["five", "six", "seven", "mine"], "older than the window: not shown");
        t.upsert(message(4, "four", None), true);
        assert_eq!(texts(&t), ["four", "five", "six", "seven", "mine"]);
        t.upsert(message(6, "six v2", Some(20)), false);
        t.upsert(message(6, "six v1", Some(10)), false);
        assert_eq!(texts(&t)[2], "six v2", "a late, older edit does not win");
        t.delete(&MessageId::new("m6"), 6);
        t.upsert(message(6, "six v3", Some(30)), false);
        assert!(t.items[2].deleted && t.items[2].text.is_empty(), "a deletion is final");
        t.fail_echo("k", SdkError::Forbidden("no".into()));
        assert!(matches!(t.items[4].send_state, SendState::Failed { retryable: false, .. }));
        t.remove_echo("k");
        assert_eq!(t.items.len(), 4);
        t.clear_messages();
        assert!(t.items.is_empty());
    }
}
