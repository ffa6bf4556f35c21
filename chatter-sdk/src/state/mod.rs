//! What the client knows: the chat list with each chat's sync position, open timelines,
//! who is typing, and the send queue. Events are applied here in event_seq order per
//! chat; nothing in this module does I/O.

mod awareness;
mod items;
mod timeline;

pub use items::{ChatListItem, SendState, TimelineItem};

use crate::error::{Result, SdkError};
use crate::send_queue::QueuedSend;
use chatter_core::model::{ChatEvent, ChatEventKind, Message};
use chatter_core::{ChatId, UserId};
use eyeball::SharedObservable;
use eyeball_im::{ObservableVector, Vector, VectorDiff};
use futures::Stream;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
pub(crate) use timeline::TimelineState;

/// Events of a chat the client does not know yet, kept until its summary arrives.
const UNKNOWN_CHAT_BUFFER: usize = 1000;

/// What applying one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// It was the chat's next event.
    Next,
    /// Already applied (a repeat): ignored.
    Repeat,
    /// Events are missing before it: the chat must be re-read.
    Gap,
    /// The chat is unknown yet: kept for when it is.
    Buffered,
    /// The user left or was removed: the chat is gone from the list.
    Left,
    /// An open timeline of a chat learned only now may lack messages whose events came
    /// before the chat was known: it was emptied and must be re-read.
    Reload,
}

struct ChatEntry {
    item: ChatListItem,
}

/// The client's state, behind one lock (never held across an await).
#[derive(Default)]
pub(crate) struct StateCell {
    inner: Mutex<State>,
}

impl std::fmt::Debug for StateCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateCell")
    }
}

impl StateCell {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// See the module doc.
pub(crate) struct State {
    me: Option<UserId>,
    chats: HashMap<ChatId, ChatEntry>,
    list: ObservableVector<ChatListItem>,
    timelines: HashMap<ChatId, TimelineState>,
    unknown: HashMap<ChatId, Vec<ChatEvent>>,
    typing: HashMap<ChatId, SharedObservable<Vec<UserId>>>,
    typing_generation: HashMap<(ChatId, UserId), u64>,
    next_generation: u64,
    queue: Vec<QueuedSend>,
    /// Presence, read receipts and running calls.
    pub(crate) awareness: awareness::Awareness,
}

impl Default for State {
    fn default() -> Self {
        Self {
            me: None,
            chats: HashMap::new(),
            list: ObservableVector::with_capacity(1024),
            timelines: HashMap::new(),
            unknown: HashMap::new(),
            typing: HashMap::new(),
            typing_generation: HashMap::new(),
            next_generation: 0,
            queue: Vec::new(),
            awareness: awareness::Awareness::default(),
        }
    }
}

/// Whether `a` sorts before `b` in the chat list (most recently active first).
fn before(a: &ChatListItem, b: &ChatListItem) -> bool {
    (std::cmp::Reverse(a.chat.last_activity_at), &a.chat.id) < (std::cmp::Reverse(b.chat.last_activity_at), &b.chat.id)
}

impl State {
    /// Sets the user (on login); a different user starts from nothing.
    pub(crate) fn set_me(&mut self, me: Option<UserId>) {
        if self.me != me {
            let mut queue = std::mem::take(&mut self.queue);
            // Another user's unsent messages are never sent as this one.
            if let Some(me) = &me {
                queue.retain(|q| q.sender_id.as_ref().is_none_or(|s| s == me));
            }
            *self = Self { me, queue, ..Self::default() };
        }
    }

    /// Whether `chat_id` is in the list.
    pub(crate) fn knows(&self, chat_id: &ChatId) -> bool {
        self.chats.contains_key(chat_id)
    }

    // The chat list.

    pub(crate) fn chat_items(&self) -> Vector<ChatListItem> {
        (*self.list).clone()
    }

    pub(crate) fn subscribe_chats(
        &self,
    ) -> (Vector<ChatListItem>, impl Stream<Item = VectorDiff<ChatListItem>> + use<>) {
        self.list.subscribe().into_values_and_stream()
    }

    fn list_index(&self, chat_id: &ChatId) -> Option<usize> {
        self.list.iter().position(|i| &i.chat.id == chat_id)
    }

    /// Puts `item` in the list at its place by activity (replacing the chat's old entry).
    fn place(&mut self, item: ChatListItem) {
        let old = self.list_index(&item.chat.id);
        let stays = old.is_some_and(|i| {
            (i == 0 || before(&self.list[i - 1], &item))
                && (i + 1 >= self.list.len() || before(&item, &self.list[i + 1]))
        });
        match old {
            Some(i) if stays => {
                self.list.set(i, item);
            }
            _ => {
                if let Some(i) = old {
                    self.list.remove(i);
                }
                let at = self.list.iter().position(|other| before(&item, other)).unwrap_or(self.list.len());
                self.list.insert(at, item);
            }
        }
    }

    /// The sync position of every known chat, for `resume`.
    pub(crate) fn positions(&self) -> BTreeMap<ChatId, u64> {
        self.chats.iter().map(|(id, e)| (id.clone(), e.item.chat.last_event_seq)).collect()
    }

    /// Adds a chat learned from the server (the listing or `chat.added`), then applies
    /// the events of it that arrived before its summary. A chat already known keeps its
    /// own position (events are applied in order).
    pub(crate) fn learn_chat(&mut self, item: ChatListItem) -> Vec<Applied> {
        let id = item.chat.id.clone();
        match self.chats.get_mut(&id) {
            Some(entry) => {
                // Taken only when it describes exactly the applied position: a newer
                // summary's changes are still on their way as events (taking its
                // counters now would count them twice), an older one is stale.
                if item.chat.last_event_seq == entry.item.chat.last_event_seq {
                    entry.item = item.clone();
                    self.place(item);
                }
                Vec::new()
            }
            None => {
                self.chats.insert(id.clone(), ChatEntry { item: item.clone() });
                self.place(item);
                let waiting = self.unknown.remove(&id).unwrap_or_default();
                let mut applied: Vec<Applied> = waiting.into_iter().map(|e| self.apply_event(e)).collect();
                if let Some(t) = self.timelines.get_mut(&id) {
                    t.clear_messages();
                    applied.push(Applied::Reload);
                }
                applied
            }
        }
    }

    /// Removes a chat (left, removed, or gone while away).
    pub(crate) fn forget_chat(&mut self, chat_id: &ChatId) {
        self.awareness.forget_chat(chat_id);
        self.chats.remove(chat_id);
        self.unknown.remove(chat_id);
        if let Some(i) = self.list_index(chat_id) {
            self.list.remove(i);
        }
        if let Some(t) = self.timelines.get_mut(chat_id) {
            t.clear_messages();
        }
    }

    /// The known chats' ids.
    pub(crate) fn chat_ids(&self) -> Vec<ChatId> {
        self.chats.keys().cloned().collect()
    }

    /// Replaces a chat's state after `chat.reset`: its summary and newest page.
    pub(crate) fn reset_chat(&mut self, item: ChatListItem, page: Vec<Message>, page_size: usize) {
        let id = item.chat.id.clone();
        self.chats.insert(id.clone(), ChatEntry { item: item.clone() });
        self.place(item);
        if let Some(t) = self.timelines.get_mut(&id) {
            t.clear_messages();
        }
        if self.timelines.contains_key(&id) {
            self.merge_page(&id, page, page_size, true);
        }
    }

    /// Applies one chat event (see [`Applied`]).
    pub(crate) fn apply_event(&mut self, event: ChatEvent) -> Applied {
        let me = self.me.clone();
        let Some(entry) = self.chats.get_mut(&event.chat_id) else {
            let waiting = self.unknown.entry(event.chat_id.clone()).or_default();
            if waiting.len() < UNKNOWN_CHAT_BUFFER {
                waiting.push(event);
            }
            return Applied::Buffered;
        };
        let position = entry.item.chat.last_event_seq;
        if event.event_seq <= position {
            return Applied::Repeat;
        }
        if event.event_seq > position + 1 {
            return Applied::Gap;
        }
        let mut item = entry.item.clone();
        item.chat.last_event_seq = event.event_seq;
        let chat_id = event.chat_id.clone();
        let mut left = false;
        match event.kind {
            ChatEventKind::MessageCreated { message } => {
                item.chat.last_seq = item.chat.last_seq.max(message.seq);
                item.chat.last_activity_at = item.chat.last_activity_at.max(message.created_at);
                let mine = Some(&message.sender_id) == me.as_ref();
                if !mine && message.seq > item.read_seq {
                    item.unread_count += 1;
                }
                if item.last_message.as_ref().is_none_or(|m| m.seq <= message.seq) {
                    item.last_message = Some(message.clone());
                }
                if mine && let Some(client_id) = &message.client_id {
                    self.queue.retain(|q| &q.client_id != client_id);
                }
                if let Some(t) = self.timelines.get_mut(&chat_id) {
                    t.created(message);
                }
            }
            ChatEventKind::MessageEdited { message } => {
                if item.last_message.as_ref().is_some_and(|m| m.seq == message.seq) {
                    item.last_message = Some(message.clone());
                }
                if let Some(t) = self.timelines.get_mut(&chat_id) {
                    t.changed(message);
                }
            }
            ChatEventKind::MessageDeleted { message_id, seq } => {
                if let Some(m) = item.last_message.as_mut().filter(|m| m.seq == seq) {
                    m.deleted = true;
                    m.text.clear();
                }
                if let Some(t) = self.timelines.get_mut(&chat_id) {
                    t.delete(&message_id, seq);
                }
            }
            ChatEventKind::ChatUpdated { chat } => {
                item.chat.title = chat.title;
                item.chat.visibility = chat.visibility;
                item.chat.owner_id = chat.owner_id;
            }
            ChatEventKind::MemberJoined { user, role } => {
                item.chat.member_count += 1;
                if Some(&user.id) == me.as_ref() {
                    item.role = role;
                }
            }
            ChatEventKind::MemberLeft { user_id, .. } => {
                item.chat.member_count = item.chat.member_count.saturating_sub(1);
                left = Some(&user_id) == me.as_ref();
            }
            ChatEventKind::MemberRole { user_id, role } => {
                if Some(&user_id) == me.as_ref() {
                    item.role = role;
                }
            }
        }
        if left {
            self.forget_chat(&chat_id);
            return Applied::Left;
        }
        if let Some(entry) = self.chats.get_mut(&chat_id) {
            entry.item = item.clone();
        }
        self.place(item);
        Applied::Next
    }

    /// The user's read marker moved (here or on another device).
    pub(crate) fn read_locally(&mut self, chat_id: &ChatId, seq: u64) {
        let me = self.me.clone();
        let Some(entry) = self.chats.get(chat_id) else { return };
        let mut item = entry.item.clone();
        if seq <= item.read_seq {
            return;
        }
        let old = item.read_seq;
        item.read_seq = seq;
        item.unread_count = match self.timelines.get(chat_id) {
            // The loaded window covers everything after the marker: count exactly.
            Some(t) if t.first_seq().is_some_and(|f| f <= seq + 1) => {
                t.messages().filter(|m| m.seq > seq && Some(&m.sender_id) != me.as_ref()).count() as u64
            }
            _ if seq >= item.chat.last_seq => 0,
            _ => item.unread_count.saturating_sub(seq - old),
        };
        if let Some(entry) = self.chats.get_mut(chat_id) {
            entry.item = item.clone();
        }
        self.place(item);
    }

    // Timelines.

    /// Makes sure a timeline exists for `chat_id` with the queued sends' echoes.
    pub(crate) fn open_timeline(&mut self, chat_id: &ChatId, me: &UserId) {
        if self.timelines.contains_key(chat_id) {
            return;
        }
        let mut t = TimelineState::new();
        for send in self.queue.iter().filter(|q| &q.chat_id == chat_id) {
            t.add_echo(send, me);
        }
        self.timelines.insert(chat_id.clone(), t);
    }

    pub(crate) fn has_timeline(&self, chat_id: &ChatId) -> bool {
        self.timelines.contains_key(chat_id)
    }

    /// The timeline's epoch (bumped when its messages are dropped by a reset).
    pub(crate) fn timeline_epoch(&self, chat_id: &ChatId) -> Option<u64> {
        self.timelines.get(chat_id).map(|t| t.epoch)
    }

    pub(crate) fn timeline_loaded(&self, chat_id: &ChatId) -> bool {
        self.timelines.get(chat_id).is_some_and(|t| t.loaded)
    }

    /// Adds a page of messages (ascending); answers whether the chat's start is reached.
    pub(crate) fn merge_page(&mut self, chat_id: &ChatId, page: Vec<Message>, page_size: usize, latest: bool) -> bool {
        let Some(t) = self.timelines.get_mut(chat_id) else { return true };
        let reached = page.len() < page_size || page.first().is_some_and(|m| m.seq <= 1);
        t.page(page);
        if latest {
            t.loaded_now();
        }
        t.reached_start |= reached;
        t.reached_start
    }

    pub(crate) fn mark_start(&mut self, chat_id: &ChatId) {
        if let Some(t) = self.timelines.get_mut(chat_id) {
            t.reached_start = true;
        }
    }

    pub(crate) fn timeline_items(&self, chat_id: &ChatId) -> Vector<TimelineItem> {
        self.timelines.get(chat_id).map(|t| (*t.items).clone()).unwrap_or_default()
    }

    pub(crate) fn subscribe_timeline(
        &mut self,
        chat_id: &ChatId,
    ) -> (Vector<TimelineItem>, impl Stream<Item = VectorDiff<TimelineItem>> + use<>) {
        self.timelines
            .entry(chat_id.clone())
            .or_insert_with(TimelineState::new)
            .items
            .subscribe()
            .into_values_and_stream()
    }

    /// The lowest loaded seq (`None`: nothing loaded), or not found when the timeline is
    /// not open.
    pub(crate) fn timeline_first_seq(&self, chat_id: &ChatId) -> Result<Option<u64>> {
        let t = self.timelines.get(chat_id).ok_or_else(|| SdkError::NotFound("timeline not open".into()))?;
        if t.reached_start {
            return Ok(None);
        }
        Ok(t.first_seq())
    }

    pub(crate) fn timeline_last_seq(&self, chat_id: &ChatId) -> Option<u64> {
        self.timelines.get(chat_id).and_then(TimelineState::last_seq)
    }

    /// A message read from the server outside the event stream (an edit's answer).
    pub(crate) fn upsert_message(&mut self, message: Message) {
        if let Some(t) = self.timelines.get_mut(&message.chat_id) {
            t.changed(message);
        }
    }

    // Typing.

    pub(crate) fn typing(&mut self, chat_id: &ChatId) -> SharedObservable<Vec<UserId>> {
        self.typing.entry(chat_id.clone()).or_insert_with(|| SharedObservable::new(Vec::new())).clone()
    }

    /// `user` is typing; answers the generation to expire it with.
    pub(crate) fn typing_started(&mut self, chat_id: &ChatId, user: &UserId) -> u64 {
        self.next_generation += 1;
        let generation = self.next_generation;
        self.typing_generation.insert((chat_id.clone(), user.clone()), generation);
        let typing = self.typing(chat_id);
        typing.update_if(|users| {
            if users.contains(user) {
                return false;
            }
            users.push(user.clone());
            true
        });
        generation
    }

    /// Ends `user`'s typing if it was not renewed since `generation`.
    pub(crate) fn typing_expired(&mut self, chat_id: &ChatId, user: &UserId, generation: u64) {
        let key = (chat_id.clone(), user.clone());
        if self.typing_generation.get(&key) != Some(&generation) {
            return;
        }
        self.typing_generation.remove(&key);
        self.typing_stopped(chat_id, user);
    }

    /// `user` is no longer typing (they sent a message, or it expired).
    pub(crate) fn typing_stopped(&mut self, chat_id: &ChatId, user: &UserId) {
        if let Some(typing) = self.typing.get(chat_id) {
            typing.update_if(|users| {
                let before = users.len();
                users.retain(|u| u != user);
                users.len() != before
            });
        }
    }

    // The send queue.

    pub(crate) fn load_queue(&mut self, mut queue: Vec<QueuedSend>) {
        if let Some(me) = &self.me {
            queue.retain(|q| q.sender_id.as_ref().is_none_or(|s| s == me));
        }
        self.queue = queue;
    }

    pub(crate) fn queue(&self) -> Vec<QueuedSend> {
        self.queue.clone()
    }

    /// Queues a send and shows its echo.
    pub(crate) fn enqueue(&mut self, send: QueuedSend) {
        if let Some(me) = self.me.clone()
            && let Some(t) = self.timelines.get_mut(&send.chat_id)
        {
            t.add_echo(&send, &me);
        }
        self.queue.push(send);
    }

    /// Queues a failed send again (its echo is already shown).
    pub(crate) fn requeue(&mut self, send: QueuedSend) {
        self.queue.push(send);
    }

    /// The queued send of `client_id`.
    pub(crate) fn queued(&self, client_id: &str) -> Option<&QueuedSend> {
        self.queue.iter().find(|q| q.client_id == client_id)
    }

    /// The oldest queued send.
    pub(crate) fn queue_head(&self) -> Option<QueuedSend> {
        self.queue.first().cloned()
    }

    /// Removes a queued send (stored, failed for good, or cancelled); answers whether it
    /// was queued.
    pub(crate) fn dequeue(&mut self, client_id: &str) -> bool {
        let before = self.queue.len();
        self.queue.retain(|q| q.client_id != client_id);
        before != self.queue.len()
    }

    /// A send failed: the queue drops it when it cannot succeed; its echo says why.
    pub(crate) fn send_failed(&mut self, send: &QueuedSend, error: SdkError) {
        if !error.is_retryable() {
            self.dequeue(&send.client_id);
        }
        if let Some(t) = self.timelines.get_mut(&send.chat_id) {
            t.fail_echo(&send.client_id, error);
        }
    }

    /// A failed echo is being sent again.
    pub(crate) fn echo_pending(&mut self, send: &QueuedSend) {
        if let Some(t) = self.timelines.get_mut(&send.chat_id) {
            t.set_echo_state(&send.client_id, SendState::Pending);
        }
    }

    /// Removes an echo (a cancelled send).
    pub(crate) fn remove_echo(&mut self, chat_id: &ChatId, client_id: &str) {
        if let Some(t) = self.timelines.get_mut(chat_id) {
            t.remove_echo(client_id);
        }
    }

    /// The failed echo of `client_id`, as a send to retry.
    pub(crate) fn failed_send(&self, client_id: &str) -> Option<QueuedSend> {
        self.timelines.iter().find_map(|(chat_id, t)| {
            t.items.iter().find(|i| i.client_id.as_deref() == Some(client_id) && i.seq.is_none()).map(|i| QueuedSend {
                chat_id: chat_id.clone(),
                client_id: client_id.to_owned(),
                text: i.text.clone(),
                reply_to: i.reply_to.clone(),
                created_at: i.created_at,
                sender_id: Some(i.sender_id.clone()),
            })
        })
    }
}
