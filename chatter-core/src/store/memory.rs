//! The in-memory store: the reference implementation of the store traits, for tests,
//! examples and embedding. One lock serialises every operation, so each is atomic.

use super::*;
use crate::model::{ChatEventKind, DELETED_USER_NAME};
use crate::paging::search_key;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

/// A store that keeps everything in memory.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryStore")
    }
}

#[derive(Default)]
struct Inner {
    users: HashMap<UserId, UserCredentials>,
    usernames: HashMap<String, UserId>,
    sessions: HashMap<SessionId, Session>,
    chats: HashMap<ChatId, ChatRow>,
    direct_pairs: HashMap<String, ChatId>,
}

struct ChatRow {
    chat: Chat,
    direct_key: Option<String>,
    members: BTreeMap<UserId, Member>,
    messages: Vec<Message>,
    /// The event_seq of each message's `message.created`, by index.
    message_events: Vec<u64>,
    message_index: HashMap<MessageId, usize>,
    client_ids: HashMap<(UserId, String), usize>,
    /// The chat's events as stored: messages and profiles by id (see `EventRecord`).
    events: Vec<EventRecord>,
}

impl ChatRow {
    fn record(&mut self, kind: ChatEventKind) -> ChatEvent {
        self.chat.last_event_seq += 1;
        let mut kind = kind;
        if let ChatEventKind::ChatUpdated { chat } = &mut kind {
            chat.last_event_seq = self.chat.last_event_seq;
        }
        self.events.push(EventRecord::of(&kind));
        ChatEvent { chat_id: self.chat.id.clone(), event_seq: self.chat.last_event_seq, kind }
    }

    fn summary(&self, user_id: &UserId) -> Option<ChatSummary> {
        let member = self.members.get(user_id)?;
        Some(ChatSummary {
            chat: self.chat.clone(),
            role: member.role,
            last_message: self.messages.last().cloned(),
            unread_count: self.messages.iter().filter(|m| is_unread(m, user_id, member.read_seq)).count() as u64,
            read_seq: member.read_seq,
        })
    }

    fn oldest_with(&self, pick: impl Fn(&Member) -> bool) -> Option<UserId> {
        self.members
            .values()
            .filter(|m| pick(m))
            .min_by(|a, b| (a.joined_at, &a.user_id).cmp(&(b.joined_at, &b.user_id)))
            .map(|m| m.user_id.clone())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> StoreResult<MutexGuard<'_, Inner>> {
        self.inner.lock().map_err(|_| StoreError::Other("memory store lock poisoned".into()))
    }
}

fn chat_mut<'a>(inner: &'a mut Inner, id: &ChatId) -> StoreResult<&'a mut ChatRow> {
    inner.chats.get_mut(id).ok_or(StoreError::NotFound("chat"))
}

#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
impl UserStore for MemoryStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        let mut inner = self.lock()?;
        if inner.usernames.contains_key(new.username.as_str()) {
            return Err(StoreError::UsernameTaken);
        }
        let user = User {
            id: new.id.clone(),
            username: new.username.as_str().to_owned(),
            display_name: new.display_name.into_string(),
            bio: String::new(),
            avatar_url: String::new(),
            created_at: new.created_at,
            deleted: false,
        };
        inner.usernames.insert(user.username.clone(), new.id.clone());
        inner.users.insert(new.id, UserCredentials { user: user.clone(), password_hash: Some(new.password_hash) });
        Ok(user)
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        Ok(self.lock()?.users.get(id).map(|c| c.user.clone()))
    }

    async fn credentials_by_username(&self, username: &Username) -> StoreResult<Option<UserCredentials>> {
        let inner = self.lock()?;
        Ok(inner.usernames.get(username.as_str()).and_then(|id| inner.users.get(id)).cloned())
    }

    async fn credentials_by_id(&self, id: &UserId) -> StoreResult<Option<UserCredentials>> {
        Ok(self.lock()?.users.get(id).cloned())
    }

    async fn update_profile(&self, id: &UserId, update: ProfileUpdate) -> StoreResult<User> {
        let mut inner = self.lock()?;
        let creds = inner.users.get_mut(id).ok_or(StoreError::NotFound("user"))?;
        let user = &mut creds.user;
        if let Some(v) = update.display_name {
            user.display_name = v.into_string();
        }
        if let Some(v) = update.bio {
            user.bio = v.into_string();
        }
        if let Some(v) = update.avatar_url {
            user.avatar_url = v.into_string();
        }
        Ok(user.clone())
    }

    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()> {
        let mut inner = self.lock()?;
        let creds = inner.users.get_mut(id).ok_or(StoreError::NotFound("user"))?;
        creds.password_hash = Some(hash.to_owned());
        Ok(())
    }

    async fn mark_user_deleted(&self, id: &UserId) -> StoreResult<User> {
        let mut inner = self.lock()?;
        let creds = inner.users.get_mut(id).ok_or(StoreError::NotFound("user"))?;
        creds.password_hash = None;
        let user = &mut creds.user;
        user.display_name = DELETED_USER_NAME.to_owned();
        user.bio.clear();
        user.avatar_url.clear();
        user.deleted = true;
        Ok(user.clone())
    }

    async fn search_users(&self, prefix: &str, after_username: Option<&str>, limit: usize) -> StoreResult<Vec<User>> {
        let inner = self.lock()?;
        let mut found: Vec<User> = inner
            .users
            .values()
            .map(|c| &c.user)
            .filter(|u| !u.deleted)
            .filter(|u| u.username.starts_with(prefix) || search_key(&u.display_name).starts_with(prefix))
            .filter(|u| after_username.is_none_or(|a| u.username.as_str() > a))
            .cloned()
            .collect();
        found.sort_by(|a, b| a.username.cmp(&b.username));
        found.truncate(limit);
        Ok(found)
    }
}

#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: Session) -> StoreResult<()> {
        self.lock()?.sessions.insert(session.id.clone(), session);
        Ok(())
    }

    async fn session_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        Ok(self.lock()?.sessions.values().find(|s| s.token_hash == token_hash).cloned())
    }

    async fn sessions_of_user(&self, user_id: &UserId) -> StoreResult<Vec<Session>> {
        let inner = self.lock()?;
        let mut found: Vec<Session> = inner.sessions.values().filter(|s| &s.user_id == user_id).cloned().collect();
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(found)
    }

    async fn touch_session(&self, id: &SessionId, at: Timestamp) -> StoreResult<()> {
        if let Some(s) = self.lock()?.sessions.get_mut(id) {
            s.last_seen_at = at;
        }
        Ok(())
    }

    async fn delete_session(&self, user_id: &UserId, id: &SessionId) -> StoreResult<bool> {
        let mut inner = self.lock()?;
        match inner.sessions.get(id) {
            Some(s) if &s.user_id == user_id => {
                inner.sessions.remove(id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete_sessions_of_user(
        &self,
        user_id: &UserId,
        except: Option<&SessionId>,
    ) -> StoreResult<Vec<SessionId>> {
        let mut inner = self.lock()?;
        let doomed: Vec<SessionId> = inner
            .sessions
            .values()
            .filter(|s| &s.user_id == user_id && Some(&s.id) != except)
            .map(|s| s.id.clone())
            .collect();
        for id in &doomed {
            inner.sessions.remove(id);
        }
        Ok(doomed)
    }
}

#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
impl ChatStore for MemoryStore {
    async fn create_chat(&self, new: NewChat) -> StoreResult<Created<Chat>> {
        let mut inner = self.lock()?;
        let direct_key = match (new.kind, new.members.as_slice()) {
            (ChatKind::Direct, [(a, _), (b, _)]) => Some(direct_pair_key(a, b)),
            (ChatKind::Direct, _) => {
                return Err(StoreError::Other("a direct chat needs two members".into()));
            }
            _ => None,
        };
        if let Some(existing) = direct_key.as_ref().and_then(|k| inner.direct_pairs.get(k)) {
            let row = inner.chats.get(existing).ok_or(StoreError::NotFound("chat"))?;
            return Ok(Created::Existing(row.chat.clone()));
        }
        let chat = Chat {
            id: new.id.clone(),
            kind: new.kind,
            title: new.title.map(ChatTitle::into_string),
            visibility: new.visibility,
            owner_id: new.owner_id,
            member_count: new.members.len() as u64,
            last_seq: 0,
            last_event_seq: 0,
            created_at: new.created_at,
            last_activity_at: new.created_at,
        };
        let members = new
            .members
            .into_iter()
            .map(|(user_id, role)| {
                let m = Member {
                    chat_id: new.id.clone(),
                    user_id: user_id.clone(),
                    role,
                    joined_at: new.created_at,
                    read_seq: 0,
                };
                (user_id, m)
            })
            .collect();
        if let Some(k) = &direct_key {
            inner.direct_pairs.insert(k.clone(), new.id.clone());
        }
        inner.chats.insert(
            new.id,
            ChatRow {
                chat: chat.clone(),
                direct_key,
                members,
                messages: Vec::new(),
                message_events: Vec::new(),
                message_index: HashMap::new(),
                client_ids: HashMap::new(),
                events: Vec::new(),
            },
        );
        Ok(Created::New(chat))
    }

    async fn chat(&self, id: &ChatId) -> StoreResult<Option<Chat>> {
        Ok(self.lock()?.chats.get(id).map(|r| r.chat.clone()))
    }

    async fn member(&self, chat_id: &ChatId, user_id: &UserId) -> StoreResult<Option<Member>> {
        Ok(self.lock()?.chats.get(chat_id).and_then(|r| r.members.get(user_id)).cloned())
    }

    async fn members(
        &self,
        chat_id: &ChatId,
        after: Option<(Timestamp, UserId)>,
        limit: usize,
    ) -> StoreResult<Vec<MemberEntry>> {
        let inner = self.lock()?;
        let Some(row) = inner.chats.get(chat_id) else {
            return Ok(Vec::new());
        };
        let mut found: Vec<&Member> = row
            .members
            .values()
            .filter(|m| after.as_ref().is_none_or(|(t, id)| (m.joined_at, &m.user_id) > (*t, id)))
            .collect();
        found.sort_by(|a, b| (a.joined_at, &a.user_id).cmp(&(b.joined_at, &b.user_id)));
        found
            .into_iter()
            .take(limit)
            .map(|m| {
                let user = inner
                    .users
                    .get(&m.user_id)
                    .map(|c| c.user.clone())
                    .ok_or(StoreError::Other("member without a user".into()))?;
                Ok(MemberEntry { user, member: m.clone() })
            })
            .collect()
    }

    async fn chat_heads(&self, user_id: &UserId) -> StoreResult<Vec<(ChatId, u64)>> {
        let inner = self.lock()?;
        Ok(inner
            .chats
            .values()
            .filter(|r| r.members.contains_key(user_id))
            .map(|r| (r.chat.id.clone(), r.chat.last_event_seq))
            .collect())
    }

    async fn presence_audience(&self, user_id: &UserId, max_group: u64) -> StoreResult<Vec<UserId>> {
        let inner = self.lock()?;
        let mut audience: Vec<UserId> = inner
            .chats
            .values()
            .filter(|r| r.members.contains_key(user_id))
            .filter(|r| r.chat.kind == ChatKind::Direct || r.chat.member_count <= max_group)
            .flat_map(|r| r.members.keys().filter(|id| *id != user_id).cloned())
            .collect();
        audience.sort();
        audience.dedup();
        Ok(audience)
    }

    async fn chats_of_user(
        &self,
        user_id: &UserId,
        after: Option<(Timestamp, ChatId)>,
        limit: usize,
    ) -> StoreResult<Vec<ChatSummary>> {
        let inner = self.lock()?;
        let key = |c: &Chat| (c.last_activity_at, c.id.clone());
        let mut found: Vec<ChatSummary> = inner
            .chats
            .values()
            .filter(|r| after.as_ref().is_none_or(|a| &key(&r.chat) < a))
            .filter_map(|r| r.summary(user_id))
            .collect();
        found.sort_by_key(|s| std::cmp::Reverse(key(&s.chat)));
        found.truncate(limit);
        Ok(found)
    }

    async fn chat_summary(&self, chat_id: &ChatId, user_id: &UserId) -> StoreResult<Option<ChatSummary>> {
        Ok(self.lock()?.chats.get(chat_id).and_then(|r| r.summary(user_id)))
    }

    async fn search_public_chats(
        &self,
        query: &str,
        after: Option<(String, ChatId)>,
        limit: usize,
    ) -> StoreResult<Vec<Chat>> {
        let inner = self.lock()?;
        let key = |c: &Chat| (search_key(c.title.as_deref().unwrap_or("")), c.id.clone());
        let mut found: Vec<Chat> = inner
            .chats
            .values()
            .map(|r| &r.chat)
            .filter(|c| c.kind == ChatKind::Group && c.visibility == Visibility::Public)
            .filter(|c| search_key(c.title.as_deref().unwrap_or("")).contains(query))
            .filter(|c| after.as_ref().is_none_or(|a| &key(c) > a))
            .cloned()
            .collect();
        found.sort_by_key(|c| key(c));
        found.truncate(limit);
        Ok(found)
    }

    async fn update_chat(&self, id: &ChatId, update: ChatUpdate) -> StoreResult<(Chat, ChatEvent)> {
        let mut inner = self.lock()?;
        let row = chat_mut(&mut inner, id)?;
        if let Some(t) = update.title {
            row.chat.title = Some(t.into_string());
        }
        if let Some(v) = update.visibility {
            row.chat.visibility = v;
        }
        let event = row.record(ChatEventKind::ChatUpdated { chat: row.chat.clone() });
        Ok((row.chat.clone(), event))
    }

    async fn add_member(
        &self,
        chat_id: &ChatId,
        user: &User,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<Option<(Member, ChatEvent)>> {
        let mut inner = self.lock()?;
        let row = chat_mut(&mut inner, chat_id)?;
        if row.members.contains_key(&user.id) {
            return Ok(None);
        }
        let member = Member { chat_id: chat_id.clone(), user_id: user.id.clone(), role, joined_at: at, read_seq: 0 };
        row.members.insert(user.id.clone(), member.clone());
        row.chat.member_count += 1;
        let event = row.record(ChatEventKind::MemberJoined { user: user.clone(), role });
        Ok(Some((member, event)))
    }

    async fn set_role(&self, chat_id: &ChatId, user_id: &UserId, role: Role) -> StoreResult<(Member, ChatEvent)> {
        let mut inner = self.lock()?;
        let row = chat_mut(&mut inner, chat_id)?;
        let member = row.members.get_mut(user_id).ok_or(StoreError::NotFound("member"))?;
        if member.role == Role::Owner {
            return Err(StoreError::Conflict("the owner's role changes only by handover"));
        }
        member.role = role;
        let member = member.clone();
        let event = row.record(ChatEventKind::MemberRole { user_id: user_id.clone(), role });
        Ok((member, event))
    }

    async fn remove_member(&self, chat_id: &ChatId, user_id: &UserId, reason: LeaveReason) -> StoreResult<Removal> {
        let mut inner = self.lock()?;
        let row = chat_mut(&mut inner, chat_id)?;
        let gone = row.members.remove(user_id).ok_or(StoreError::NotFound("member"))?;
        row.chat.member_count -= 1;
        if row.members.is_empty() {
            let key = row.direct_key.clone();
            inner.chats.remove(chat_id);
            if let Some(k) = key {
                inner.direct_pairs.remove(&k);
            }
            return Ok(Removal { events: Vec::new(), new_owner: None, chat_deleted: true });
        }
        let mut events = vec![row.record(ChatEventKind::MemberLeft { user_id: user_id.clone(), reason })];
        let mut new_owner = None;
        if gone.role == Role::Owner {
            let heir = row
                .oldest_with(|m| m.role == Role::Admin)
                .or_else(|| row.oldest_with(|_| true))
                .ok_or(StoreError::Other("no heir".into()))?;
            if let Some(m) = row.members.get_mut(&heir) {
                m.role = Role::Owner;
            }
            row.chat.owner_id = Some(heir.clone());
            events.push(row.record(ChatEventKind::MemberRole { user_id: heir.clone(), role: Role::Owner }));
            events.push(row.record(ChatEventKind::ChatUpdated { chat: row.chat.clone() }));
            new_owner = Some(heir);
        }
        Ok(Removal { events, new_owner, chat_deleted: false })
    }
}

#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
impl ReadMarkerStore for MemoryStore {
    async fn mark_read(&self, chat_id: &ChatId, user_id: &UserId, seq: u64) -> StoreResult<u64> {
        let mut inner = self.lock()?;
        let row = chat_mut(&mut inner, chat_id)?;
        let member = row.members.get_mut(user_id).ok_or(StoreError::NotFound("member"))?;
        member.read_seq = member.read_seq.max(seq);
        Ok(member.read_seq)
    }
}

#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
impl MessageStore for MemoryStore {
    async fn append_message(&self, new: NewMessage) -> StoreResult<Created<(Message, ChatEvent)>> {
        let mut inner = self.lock()?;
        let row = chat_mut(&mut inner, &new.chat_id)?;
        let idem_key = new.client_id.as_ref().map(|c| (new.sender_id.clone(), c.as_str().to_owned()));
        if let Some(&i) = idem_key.as_ref().and_then(|k| row.client_ids.get(k)) {
            let message = row.messages[i].clone();
            let event = ChatEvent {
                chat_id: message.chat_id.clone(),
                event_seq: row.message_events[i],
                kind: ChatEventKind::MessageCreated { message: message.clone() },
            };
            return Ok(Created::Existing((message, event)));
        }
        row.chat.last_seq += 1;
        row.chat.last_activity_at = row.chat.last_activity_at.max(new.created_at);
        let message = Message {
            id: new.id.clone(),
            chat_id: new.chat_id,
            seq: row.chat.last_seq,
            sender_id: new.sender_id,
            text: new.text.into_string(),
            client_id: new.client_id.map(ClientId::into_string),
            reply_to: new.reply_to,
            created_at: new.created_at,
            edited_at: None,
            deleted: false,
        };
        let index = row.messages.len();
        row.messages.push(message.clone());
        row.message_index.insert(new.id, index);
        if let Some(k) = idem_key {
            row.client_ids.insert(k, index);
        }
        let event = row.record(ChatEventKind::MessageCreated { message: message.clone() });
        row.message_events.push(event.event_seq);
        Ok(Created::New((message, event)))
    }

    async fn message(&self, chat_id: &ChatId, id: &MessageId) -> StoreResult<Option<Message>> {
        let inner = self.lock()?;
        Ok(inner.chats.get(chat_id).and_then(|r| r.message_index.get(id).map(|&i| r.messages[i].clone())))
    }

    async fn messages(&self, chat_id: &ChatId, window: MessageWindow, limit: usize) -> StoreResult<Vec<Message>> {
        let inner = self.lock()?;
        let Some(row) = inner.chats.get(chat_id) else {
            return Ok(Vec::new());
        };
        // Seqs are 1..=n at indexes 0..n.
        let n = row.messages.len();
        let (start, end) = match window {
            MessageWindow::Latest => (n.saturating_sub(limit), n),
            MessageWindow::Before(seq) => {
                let end = (seq.saturating_sub(1) as usize).min(n);
                (end.saturating_sub(limit), end)
            }
            MessageWindow::After(seq) => {
                let start = (seq as usize).min(n);
                (start, (start + limit).min(n))
            }
        };
        Ok(row.messages[start..end].to_vec())
    }

    async fn edit_message(
        &self,
        chat_id: &ChatId,
        id: &MessageId,
        text: &MessageText,
        at: Timestamp,
    ) -> StoreResult<(Message, ChatEvent)> {
        let mut inner = self.lock()?;
        let row = chat_mut(&mut inner, chat_id)?;
        let &i = row.message_index.get(id).ok_or(StoreError::NotFound("message"))?;
        let message = &mut row.messages[i];
        if message.deleted {
            return Err(StoreError::Conflict("the message was deleted"));
        }
        message.text = text.as_str().to_owned();
        message.edited_at = Some(at);
        let message = message.clone();
        let event = row.record(ChatEventKind::MessageEdited { message: message.clone() });
        Ok((message, event))
    }

    async fn delete_message(&self, chat_id: &ChatId, id: &MessageId) -> StoreResult<Option<(Message, ChatEvent)>> {
        let mut inner = self.lock()?;
        let row = chat_mut(&mut inner, chat_id)?;
        let &i = row.message_index.get(id).ok_or(StoreError::NotFound("message"))?;
        let message = &mut row.messages[i];
        if message.deleted {
            return Ok(None);
        }
        message.deleted = true;
        message.text.clear();
        let message = message.clone();
        let event = row.record(ChatEventKind::MessageDeleted { message_id: id.clone(), seq: message.seq });
        Ok(Some((message, event)))
    }

    async fn chat_events(&self, chat_id: &ChatId, after: u64, limit: usize) -> StoreResult<Vec<ChatEvent>> {
        let inner = self.lock()?;
        let Some(row) = inner.chats.get(chat_id) else {
            return Ok(Vec::new());
        };
        // event_seqs are 1..=n at indexes 0..n.
        let start = (after as usize).min(row.events.len());
        let replay = |(i, record): (usize, &EventRecord)| {
            let message =
                record.message_ref().and_then(|id| row.message_index.get(id)).map(|&m| row.messages[m].clone());
            let user = record.user_ref().and_then(|id| inner.users.get(id)).map(|c| c.user.clone());
            let kind = record.clone().replay(message, user)?;
            Ok(ChatEvent { chat_id: chat_id.clone(), event_seq: (start + i + 1) as u64, kind })
        };
        row.events[start..].iter().take(limit).enumerate().map(replay).collect()
    }
}

#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
impl Store for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        self.lock().map(|_| ())
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    crate::store_conformance_tests!(async { ((), super::MemoryStore::new()) });
}
