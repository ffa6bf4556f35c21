//! One chat's loaded messages and local echoes, and the observable items built from them.

use super::items::{SendState, TimelineItem};
use crate::error::SdkError;
use crate::send_queue::QueuedSend;
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
    /// Edits and deletions of messages not loaded yet, that came while the newest page
    /// was on its way: applied over the page when it lands.
    pending: Vec<Message>,
    /// Bumped whenever the loaded messages are dropped: a page requested before is stale.
    pub(crate) epoch: u64,
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

/// A placeholder carrying only a deletion (id and seq) until the page brings the message;
/// `loaded_now` applies it by marking the real message deleted.
fn tombstone_for(message_id: &MessageId, seq: u64) -> Message {
    Message {
        id: message_id.clone(),
        chat_id: chatter_core::ChatId::new(""),
        seq,
        sender_id: UserId::new(""),
        text: String::new(),
        client_id: None,
        reply_to: None,
        created_at: chatter_core::Timestamp::from_micros(0),
        edited_at: None,
        deleted: true,
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
            pending: Vec::new(),
            epoch: 0,
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

    /// Replaces a loaded message with a newer state of it; answers whether it was loaded.
    fn update(&mut self, message: Message) -> bool {
        let seq = message.seq;
        let Some(old) = self.messages.get(&seq) else { return false };
        if old != &message && newer_or_same(old, &message) {
            let index = self.index_of_seq(seq);
            self.messages.insert(seq, message.clone());
            self.items.set(index, TimelineItem::remote(message));
        }
        true
    }

    fn insert(&mut self, message: Message) {
        if let Some(client_id) = message.client_id.clone() {
            // The stored form of a message sent from here replaces its echo.
            self.remove_echo(&client_id);
        }
        let index = self.index_of_seq(message.seq);
        self.messages.insert(message.seq, message.clone());
        self.items.insert(index, TimelineItem::remote(message));
    }

    /// A new message (live): it extends the window at the newest end.
    pub(crate) fn created(&mut self, message: Message) {
        if self.update(message.clone()) {
            return;
        }
        if self.first_seq().is_some_and(|first| message.seq < first) {
            return;
        }
        self.insert(message);
    }

    /// A message's new state (an edit, a deletion, an answer read over REST). A message
    /// not loaded is outside the window, unless the newest page is still on its way.
    pub(crate) fn changed(&mut self, message: Message) {
        if !self.update(message.clone()) && !self.loaded {
            self.pending.push(message);
        }
    }

    /// Merges messages read from the server (a page).
    pub(crate) fn page(&mut self, page: Vec<Message>) {
        for message in page {
            if !self.update(message.clone()) {
                self.insert(message);
            }
        }
    }

    /// The newest page landed: apply what changed while it was on its way.
    pub(crate) fn loaded_now(&mut self) {
        self.loaded = true;
        for message in std::mem::take(&mut self.pending) {
            if message.deleted {
                self.delete(&message.id, message.seq);
            } else {
                self.update(message);
            }
        }
    }

    /// Marks message `seq` deleted.
    pub(crate) fn delete(&mut self, message_id: &MessageId, seq: u64) {
        let Some(old) = self.messages.get(&seq) else {
            if !self.loaded {
                // Unknown text; the page brings the message and this makes it a tombstone.
                self.pending.retain(|m| m.seq != seq);
                self.pending.push(tombstone_for(message_id, seq));
            }
            return;
        };
        if old.deleted || &old.id != message_id {
            return;
        }
        let mut message = old.clone();
        message.deleted = true;
        message.text.clear();
        self.update(message);
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
        self.pending.clear();
        self.reached_start = false;
        self.loaded = false;
        self.epoch += 1;
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

    fn queued(client_id: &str, text: &str) -> QueuedSend {
        QueuedSend {
            chat_id: ChatId::new("c"),
            client_id: client_id.into(),
            text: text.into(),
            reply_to: None,
            created_at: Timestamp::from_micros(9),
            sender_id: None,
        }
    }

    fn texts(t: &TimelineState) -> Vec<String> {
        t.items.iter().map(|i| i.text.clone()).collect()
    }

    #[test]
    fn messages_stay_in_seq_order_with_echoes_last_and_old_edits_lose() {
        let mut t = TimelineState::new();
        t.created(message(5, "five", None));
        t.created(message(6, "six", None));
        let send = queued("k", "mine");
        t.add_echo(&send, &UserId::new("me"));
        t.created(message(7, "seven", None));
        assert_eq!(texts(&t), ["five", "six", "seven", "mine"]);
        t.created(message(3, "three", None));
        assert_eq!(texts(&t), ["five", "six", "seven", "mine"], "older than the window: not shown");
        t.page(vec![message(4, "four", None)]);
        assert_eq!(texts(&t), ["four", "five", "six", "seven", "mine"]);
        t.changed(message(6, "six v2", Some(20)));
        t.changed(message(6, "six v1", Some(10)));
        assert_eq!(texts(&t)[2], "six v2", "a late, older edit does not win");
        t.delete(&MessageId::new("m6"), 6);
        t.changed(message(6, "six v3", Some(30)));
        assert!(t.items[2].deleted && t.items[2].text.is_empty(), "a deletion is final");
        t.fail_echo("k", SdkError::Forbidden("no".into()));
        assert!(matches!(t.items[4].send_state, SendState::Failed { retryable: false, .. }));
        t.remove_echo("k");
        assert_eq!(t.items.len(), 4);
        t.clear_messages();
        assert!(t.items.is_empty());
        assert_eq!(t.epoch, 1);
    }

    #[test]
    fn changes_that_come_while_the_first_page_loads_apply_over_it() {
        let mut t = TimelineState::new();
        // Live, before the page: a new message, an edit and a deletion of older ones.
        t.created(message(9, "nine", None));
        t.changed(message(4, "four v2", Some(50)));
        t.delete(&MessageId::new("m5"), 5);
        // The page was read before those changes.
        t.page((3..=8).map(|n| message(n, &format!("n{n}"), None)).collect());
        t.loaded_now();
        let texts = texts(&t);
        assert_eq!(texts, ["n3", "four v2", "", "n6", "n7", "n8", "nine"]);
        assert!(t.items[2].deleted);
        // Once loaded, changes to messages outside the window are ignored.
        t.changed(message(1, "one v2", Some(60)));
        assert_eq!(t.items.len(), 7);
    }

    #[test]
    fn the_stored_form_of_an_own_message_replaces_its_echo_however_it_arrives() {
        let mut t = TimelineState::new();
        let send = queued("k", "mine");
        t.add_echo(&send, &UserId::new("me"));
        let mut stored = message(1, "mine", None);
        stored.client_id = Some("k".into());
        t.page(vec![stored]);
        assert_eq!(texts(&t), ["mine"], "no pending copy beside the stored one");
        assert_eq!(t.items[0].send_state, SendState::Sent);
    }
}
