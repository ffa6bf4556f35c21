//! The node's registry of open sockets and its fan-out. A chat event is kept once, in
//! the chat's feed, and each following socket is told the chat has news (once until it
//! reads); other frames go to each socket's bounded queue. Delivery never waits: a socket
//! whose queue is full, or that is more than the queue limit behind in a feed, is closed
//! as a slow consumer (4008), so one slow reader never delays the others.

use super::close::{CloseCode, CloseSignal};
use super::feed::{Feed, Subscription};
use super::frames;
use super::outbox::Outbox;
use crate::broker::Broadcast;
use bytes::Bytes;
use chatter_core::model::ChatEventKind;
use chatter_core::protocol::ws::ServerMessage;
use chatter_core::service::Notice;
use chatter_core::{ChatId, SessionId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// How often feeds drop the events every follower has read: a chat gone quiet after a
/// burst would otherwise keep them until its next event.
const FEED_SWEEP: Duration = Duration::from_secs(5);

/// How often one user's typing in one chat is passed on.
const TYPING_EVERY: Duration = Duration::from_secs(3);

/// A chat event ready to send: encoded once, shared by every socket.
#[derive(Debug)]
pub struct Delivered {
    /// The chat.
    pub chat_id: ChatId,
    /// Its event_seq.
    pub event_seq: u64,
    /// The encoded frame.
    pub frame: Bytes,
    /// The user it says left the chat (a `member_left`), whose sockets stop following.
    pub leaving: Option<UserId>,
}

/// What the hub queues for a socket.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A followed chat has events the socket has yet to read from its feed.
    News(Arc<Subscription>),
    /// An ephemeral frame (typing, read, presence).
    Frame(Bytes),
    /// The user joined a chat: follow it from `last_event_seq`, send `frame`
    /// (`chat.added`).
    Added {
        /// The chat.
        chat_id: ChatId,
        /// Its last event_seq in the snapshot sent.
        last_event_seq: u64,
        /// The `chat.added` frame.
        frame: Bytes,
    },
    /// The chat's events reach `event_seq` in the store: send what is missing up to it.
    Head {
        /// The chat.
        chat_id: ChatId,
        /// Its newest stored event.
        event_seq: u64,
    },
    /// The user lost a chat: send the chat's events the socket had yet to read, stop
    /// following it, send `frame` (`chat.removed`).
    Removed {
        /// The chat.
        chat_id: ChatId,
        /// Its events that reached the node before the removal and the socket had not read.
        unread: Vec<Arc<Delivered>>,
        /// The `chat.removed` frame.
        frame: Bytes,
    },
}

/// Connection limits of a node.
#[derive(Clone, Copy, Debug)]
pub struct HubLimits {
    /// Frames a socket may have queued.
    pub queue: usize,
    /// Sockets on this node.
    pub max_connections: usize,
    /// Sockets per user on this node.
    pub max_per_user: usize,
}

/// A registration refused by a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany;

/// A place held under the node cap by a socket that has yet to authenticate.
#[derive(Debug)]
pub struct PendingGuard(Arc<AtomicUsize>);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A registered socket's handles.
#[derive(Debug)]
pub struct Registration {
    /// Its id in the hub.
    pub id: u64,
    /// Its queue.
    pub outbox: Arc<Outbox>,
    /// Its close signal.
    pub close: Arc<CloseSignal>,
    /// Whether it is the user's first socket on this node.
    pub first_of_user: bool,
}

/// What fan-out needs of a socket, shared by the hub's indexes (no lookup per delivery).
struct Link {
    id: u64,
    user_id: UserId,
    outbox: Arc<Outbox>,
    close: Arc<CloseSignal>,
}

struct Conn {
    link: Arc<Link>,
    session_id: SessionId,
    chats: HashSet<ChatId>,
    /// Chats removed since registration, so a late initial subscription skips them.
    removed: HashSet<ChatId>,
}

/// The sockets following a chat on this node, and its feed.
struct Followers {
    feed: Arc<Feed>,
    sockets: Vec<(Arc<Link>, Arc<Subscription>)>,
}

impl Followers {
    fn add(&mut self, link: &Arc<Link>) {
        self.sockets.push((link.clone(), self.feed.subscribe()));
    }

    /// Removes socket `id`, answering its subscription.
    fn remove(&mut self, id: u64) -> Option<Arc<Subscription>> {
        let at = self.sockets.iter().position(|(link, _)| link.id == id)?;
        Some(self.sockets.swap_remove(at).1)
    }

    fn links(&self) -> impl Iterator<Item = &Arc<Link>> {
        self.sockets.iter().map(|(link, _)| link)
    }
}

#[derive(Default)]
struct State {
    conns: HashMap<u64, Conn>,
    by_user: HashMap<UserId, Vec<u64>>,
    by_chat: HashMap<ChatId, Followers>,
    by_session: HashMap<SessionId, Vec<u64>>,
}

impl State {
    fn follow(&mut self, chat: &ChatId, link: &Arc<Link>) {
        self.by_chat
            .entry(chat.clone())
            .or_insert_with(|| Followers { feed: Feed::new(chat.clone()), sockets: Vec::new() })
            .add(link);
    }

    /// Socket `id` stops following `chat`; answers its subscription.
    fn unfollow(&mut self, chat: &ChatId, id: u64) -> Option<Arc<Subscription>> {
        let followers = self.by_chat.get_mut(chat)?;
        let sub = followers.remove(id);
        if followers.sockets.is_empty() {
            self.by_chat.remove(chat);
        }
        sub
    }
}

/// Told of revoked sessions (the SFU drops their call participants).
pub type RevocationListener = Box<dyn Fn(&[SessionId]) + Send + Sync>;

/// Told of a user removed from a chat (the SFU drops them from its call).
pub type RemovalListener = Box<dyn Fn(&UserId, &ChatId) + Send + Sync>;

/// Told of call requests and replies between nodes.
pub type CallListener = Box<dyn Fn(&Broadcast) + Send + Sync>;

/// The registry and fan-out of one node's sockets.
pub struct Hub {
    limits: HubLimits,
    /// Sockets still waiting for their `auth` frame: they count against the node cap.
    pending: Arc<AtomicUsize>,
    state: RwLock<State>,
    next_id: AtomicU64,
    typing: Mutex<HashMap<(UserId, ChatId), Instant>>,
    revocations: OnceLock<RevocationListener>,
    call_messages: OnceLock<CallListener>,
    removals: OnceLock<RemovalListener>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("limits", &self.limits).field("connections", &self.connections()).finish()
    }
}

fn push(link: &Link, item: Outbound) {
    if link.outbox.push(item).is_err() {
        link.close.close(CloseCode::SlowConsumer);
    }
}

impl Hub {
    /// An empty hub with these limits.
    pub fn new(limits: HubLimits) -> Self {
        Self {
            limits,
            pending: Arc::default(),
            state: RwLock::new(State::default()),
            next_id: AtomicU64::new(1),
            typing: Mutex::default(),
            revocations: OnceLock::new(),
            call_messages: OnceLock::new(),
            removals: OnceLock::new(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Open sockets on this node.
    pub fn connections(&self) -> usize {
        self.read().conns.len()
    }

    /// Whether `user_id` has a socket on this node.
    pub fn is_online(&self, user_id: &UserId) -> bool {
        self.read().by_user.get(user_id).is_some_and(|c| !c.is_empty())
    }

    /// Whether `session_id` has a socket on this node.
    pub fn has_session(&self, session_id: &SessionId) -> bool {
        self.read().by_session.contains_key(session_id)
    }

    /// Sets who hears of revoked sessions (once).
    pub fn on_revocation(&self, listener: RevocationListener) {
        let _ = self.revocations.set(listener);
    }

    /// Sets who hears of users removed from chats (once).
    pub fn on_removal(&self, listener: RemovalListener) {
        let _ = self.removals.set(listener);
    }

    /// Sets who hears of call requests and replies between nodes (once).
    pub fn on_call_message(&self, listener: CallListener) {
        let _ = self.call_messages.set(listener);
    }

    /// Per user with a socket on this node: the sessions of those sockets and the chats
    /// they follow.
    pub fn users(&self) -> HashMap<UserId, (HashSet<SessionId>, HashSet<ChatId>)> {
        let mut users: HashMap<UserId, (HashSet<SessionId>, HashSet<ChatId>)> = HashMap::new();
        for conn in self.read().conns.values() {
            let entry = users.entry(conn.link.user_id.clone()).or_default();
            entry.0.insert(conn.session_id.clone());
            entry.1.extend(conn.chats.iter().cloned());
        }
        users
    }

    /// Chats followed by a socket on this node.
    pub fn followed_chats(&self) -> Vec<ChatId> {
        self.read().by_chat.keys().cloned().collect()
    }

    /// Holds a place under the node cap for a socket that has yet to authenticate; the
    /// place is given back when the guard drops.
    pub fn reserve_pending(&self) -> Result<PendingGuard, TooMany> {
        let open = self.read().conns.len();
        if open + self.pending.fetch_add(1, Ordering::SeqCst) >= self.limits.max_connections {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(TooMany);
        }
        Ok(PendingGuard(self.pending.clone()))
    }

    /// Registers a socket (following no chat yet), within the caps.
    pub fn register(&self, user_id: &UserId, session_id: &SessionId) -> Result<Registration, TooMany> {
        let mut state = self.write();
        let of_user = state.by_user.get(user_id).map_or(0, Vec::len);
        if state.conns.len() >= self.limits.max_connections || of_user >= self.limits.max_per_user {
            return Err(TooMany);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let outbox = Arc::new(Outbox::new(self.limits.queue));
        let close = Arc::new(CloseSignal::default());
        let link = Arc::new(Link { id, user_id: user_id.clone(), outbox: outbox.clone(), close: close.clone() });
        state
            .conns
            .insert(id, Conn { link, session_id: session_id.clone(), chats: HashSet::new(), removed: HashSet::new() });
        state.by_user.entry(user_id.clone()).or_default().push(id);
        state.by_session.entry(session_id.clone()).or_default().push(id);
        Ok(Registration { id, outbox, close, first_of_user: of_user == 0 })
    }

    /// Subscribes socket `id` to `chats`, skipping chats it already follows or lost since
    /// registering. Answers the chats newly subscribed.
    pub fn subscribe(&self, id: u64, chats: impl IntoIterator<Item = ChatId>) -> Vec<ChatId> {
        let mut state = self.write();
        let Some(conn) = state.conns.get_mut(&id) else { return Vec::new() };
        let link = conn.link.clone();
        let mut added = Vec::new();
        for chat in chats {
            if conn.removed.contains(&chat) || !conn.chats.insert(chat.clone()) {
                continue;
            }
            added.push(chat);
        }
        for chat in &added {
            state.follow(chat, &link);
        }
        added
    }

    /// Removes socket `id`; answers whether it was its user's last socket on this node.
    pub fn unregister(&self, id: u64) -> bool {
        let mut state = self.write();
        let Some(conn) = state.conns.remove(&id) else { return false };
        for chat in &conn.chats {
            state.unfollow(chat, id);
        }
        if let Some(ids) = state.by_session.get_mut(&conn.session_id) {
            ids.retain(|c| *c != id);
            if ids.is_empty() {
                state.by_session.remove(&conn.session_id);
            }
        }
        let Some(ids) = state.by_user.get_mut(&conn.link.user_id) else { return true };
        ids.retain(|c| *c != id);
        let last = ids.is_empty();
        if last {
            state.by_user.remove(&conn.link.user_id);
        }
        last
    }

    /// Whether `user_id`'s typing in `chat_id` should be passed on now (at most once
    /// every 3 s).
    pub fn allow_typing(&self, user_id: &UserId, chat_id: &ChatId, now: Instant) -> bool {
        let mut typing = self.typing.lock().unwrap_or_else(|e| e.into_inner());
        if typing.len() > 10_000 {
            typing.retain(|_, at| now.duration_since(*at) < TYPING_EVERY);
        }
        match typing.get(&(user_id.clone(), chat_id.clone())) {
            Some(at) if now.duration_since(*at) < TYPING_EVERY => false,
            _ => {
                typing.insert((user_id.clone(), chat_id.clone()), now);
                true
            }
        }
    }

    /// Drops, in every chat's feed, the events all its followers have read (followers
    /// more than the queue limit behind are being closed and do not hold it back).
    pub fn trim_feeds(&self) {
        let state = self.read();
        for followers in state.by_chat.values() {
            let next = followers.feed.next();
            let read_by_all = followers
                .sockets
                .iter()
                .map(|(_, sub)| sub.cursor())
                .filter(|&cursor| next - cursor <= self.limits.queue as u64)
                .min()
                .unwrap_or(next);
            followers.feed.trim(read_by_all);
        }
    }

    /// Trims the feeds every few seconds for as long as the hub lives (from within a
    /// tokio runtime; without one, feeds are trimmed by their next event only).
    pub fn keep_feeds_trimmed(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let hub = Arc::downgrade(self);
        runtime.spawn(async move {
            let mut ticks = tokio::time::interval(FEED_SWEEP);
            loop {
                ticks.tick().await;
                let Some(hub) = hub.upgrade() else { return };
                hub.trim_feeds();
            }
        });
    }

    /// Asks every socket to close with `code`.
    pub fn close_all(&self, code: CloseCode) {
        for conn in self.read().conns.values() {
            conn.link.close.close(code);
        }
    }

    /// Waits until no socket is open, or `timeout` passes.
    pub async fn wait_idle(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.connections() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Delivers a broadcast to this node's sockets.
    pub fn deliver(&self, broadcast: &Broadcast) {
        match broadcast {
            Broadcast::Notice(Notice::Chat(event)) => {
                let leaving = match &event.kind {
                    ChatEventKind::MemberLeft { user_id, .. } => Some(user_id.clone()),
                    _ => None,
                };
                let delivered = Arc::new(Delivered {
                    chat_id: event.chat_id.clone(),
                    event_seq: event.event_seq,
                    frame: frames::event(event, None),
                    leaving,
                });
                // Appended without the hub's lock: a socket copying a long backlog holds
                // its chat's feed, and waiting for it under the hub's lock would hold up
                // registrations, and behind them (the lock favours writers) every chat.
                let Some(feed) = self.read().by_chat.get(&event.chat_id).map(|f| f.feed.clone()) else { return };
                let next = feed.append(delivered);
                let state = self.read();
                // Followers that came meanwhile start after the event (they read the chat's
                // head from the store); a new feed means the event's followers all left.
                let Some(followers) = state.by_chat.get(&event.chat_id).filter(|f| Arc::ptr_eq(&f.feed, &feed)) else {
                    return;
                };
                let mut read_by_all = next;
                for (link, sub) in &followers.sockets {
                    let cursor = sub.cursor();
                    if next - cursor > self.limits.queue as u64 {
                        // Its unread events are dropped with the next append.
                        link.close.close(CloseCode::SlowConsumer);
                        continue;
                    }
                    read_by_all = read_by_all.min(cursor);
                    if sub.flag() {
                        push(link, Outbound::News(sub.clone()));
                    }
                }
                followers.feed.read_up_to(read_by_all);
            }
            Broadcast::Notice(Notice::ChatAdded { user_id, chat }) => {
                let frame = frames::message(&ServerMessage::ChatAdded { chat: chat.clone() });
                let mut state = self.write();
                let ids = state.by_user.get(user_id).cloned().unwrap_or_default();
                for id in ids {
                    let Some(conn) = state.conns.get_mut(&id) else { continue };
                    conn.removed.remove(&chat.id);
                    let link = conn.link.clone();
                    if conn.chats.insert(chat.id.clone()) {
                        state.follow(&chat.id, &link);
                    }
                    let item = Outbound::Added {
                        chat_id: chat.id.clone(),
                        last_event_seq: chat.last_event_seq,
                        frame: frame.clone(),
                    };
                    push(&link, item);
                }
            }
            Broadcast::Notice(Notice::ChatRemoved { user_id, chat_id }) => {
                if let Some(listener) = self.removals.get() {
                    listener(user_id, chat_id);
                }
                let frame = frames::message(&ServerMessage::ChatRemoved { chat_id: chat_id.clone() });
                let mut state = self.write();
                let ids = state.by_user.get(user_id).cloned().unwrap_or_default();
                for id in ids {
                    let Some(conn) = state.conns.get_mut(&id) else { continue };
                    conn.removed.insert(chat_id.clone());
                    let link = conn.link.clone();
                    let followed = conn.chats.remove(chat_id);
                    let unread = match followed.then(|| state.unfollow(chat_id, id)).flatten() {
                        Some(sub) => sub.end_here(),
                        None => Vec::new(),
                    };
                    push(&link, Outbound::Removed { chat_id: chat_id.clone(), unread, frame: frame.clone() });
                }
            }
            Broadcast::Notice(Notice::Read { chat_id, user_id, seq }) => {
                let frame = frames::message(&ServerMessage::Read {
                    chat_id: chat_id.clone(),
                    user_id: user_id.clone(),
                    seq: *seq,
                });
                self.to_chat(chat_id, None, &frame);
            }
            Broadcast::Typing { chat_id, user_id } => {
                let frame =
                    frames::message(&ServerMessage::Typing { chat_id: chat_id.clone(), user_id: user_id.clone() });
                self.to_chat(chat_id, Some(user_id), &frame);
            }
            Broadcast::Presence { user_id, online, audience } => {
                let frame = frames::message(&ServerMessage::Presence { user_id: user_id.clone(), online: *online });
                let state = self.read();
                for user in audience {
                    for id in state.by_user.get(user).into_iter().flatten() {
                        if let Some(conn) = state.conns.get(id) {
                            push(&conn.link, Outbound::Frame(frame.clone()));
                        }
                    }
                }
            }
            // For the broker: it reads the store and delivers what it finds.
            Broadcast::CatchUp => {}
            Broadcast::Head { chat_id, event_seq } => {
                let state = self.read();
                for link in state.by_chat.get(chat_id).into_iter().flat_map(Followers::links) {
                    push(link, Outbound::Head { chat_id: chat_id.clone(), event_seq: *event_seq });
                }
            }
            Broadcast::ToSession { session_id, message } => {
                let frame = frames::message(message);
                let state = self.read();
                for id in state.by_session.get(session_id).into_iter().flatten() {
                    if let Some(conn) = state.conns.get(id) {
                        push(&conn.link, Outbound::Frame(frame.clone()));
                    }
                }
            }
            Broadcast::ToChat { chat_id, message } => self.to_chat(chat_id, None, &frames::message(message)),
            Broadcast::CallRequest { .. }
            | Broadcast::CallReply { .. }
            | Broadcast::SocketsAsked { .. }
            | Broadcast::SocketsHeld { .. } => {
                if let Some(listener) = self.call_messages.get() {
                    listener(broadcast);
                }
            }
            Broadcast::Notice(Notice::SessionsRevoked { session_ids, .. }) => {
                if let Some(listener) = self.revocations.get() {
                    listener(session_ids);
                }
                let revoked: HashSet<&SessionId> = session_ids.iter().collect();
                for conn in self.read().conns.values() {
                    if revoked.contains(&conn.session_id) {
                        conn.link.close.close(CloseCode::Unauthenticated);
                    }
                }
            }
        }
    }

    fn to_chat(&self, chat_id: &ChatId, except_user: Option<&UserId>, frame: &Bytes) {
        let state = self.read();
        for link in state.by_chat.get(chat_id).into_iter().flat_map(Followers::links) {
            if Some(&link.user_id) != except_user {
                push(link, Outbound::Frame(frame.clone()));
            }
        }
    }
}
