//! Store traits, one per aggregate, in CRUD order. Every backend implements all of them
//! (together: [`Store`]) and runs the conformance suite (`conformance`, feature
//! `testing`). Operations that change a chat also record the chat event that describes
//! the change, with the chat's next `event_seq`, in the same atomic step. Events are
//! kept as [`EventRecord`]s, which name messages and users by id: a replay shows them as
//! they are now, so deleted text and deleted profiles cannot be read back.

#[cfg(feature = "testing")]
pub mod conformance;
mod memory;
mod record;

pub use memory::MemoryStore;
pub use record::EventRecord;

use crate::error::StoreError;
use crate::id::{ChatId, MessageId, SessionId, UserId};
use crate::model::{
    Chat, ChatEvent, ChatKind, ChatSummary, LeaveReason, Member, MemberEntry, Message, Role, Session, User, Visibility,
};
use crate::time::Timestamp;
use crate::value::{AvatarUrl, Bio, ChatTitle, ClientId, DisplayName, MessageText, Username};
use async_trait::async_trait;

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// A user to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The new user's id.
    pub id: UserId,
    /// Unique username.
    pub username: Username,
    /// Initial display name.
    pub display_name: DisplayName,
    /// Argon2id PHC string of the password.
    pub password_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A user with the secret needed to check their password.
#[derive(Clone, Debug)]
pub struct UserCredentials {
    /// The profile.
    pub user: User,
    /// The password hash; `None` once the account is deleted.
    pub password_hash: Option<String>,
}

/// Changes to a profile; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ProfileUpdate {
    /// New display name.
    pub display_name: Option<DisplayName>,
    /// New bio.
    pub bio: Option<Bio>,
    /// New avatar URL (empty clears it).
    pub avatar_url: Option<AvatarUrl>,
}

/// A chat to create with its first members.
#[derive(Clone, Debug)]
pub struct NewChat {
    /// The new chat's id.
    pub id: ChatId,
    /// Group or direct.
    pub kind: ChatKind,
    /// Title (groups only).
    pub title: Option<ChatTitle>,
    /// Visibility (direct chats are private).
    pub visibility: Visibility,
    /// Owner (groups only).
    pub owner_id: Option<UserId>,
    /// Members with their roles, the owner included.
    pub members: Vec<(UserId, Role)>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// Changes to a chat; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ChatUpdate {
    /// New title.
    pub title: Option<ChatTitle>,
    /// New visibility.
    pub visibility: Option<Visibility>,
}

/// Something created, or the one that already existed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created<T> {
    /// Newly created.
    New(T),
    /// It existed already (a direct chat of the same pair, a send with the same
    /// `client_id`).
    Existing(T),
}

/// What removing a member did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    /// The events recorded: `member_left`, and on an owner's leaving `member_role` and
    /// `chat.updated` for the new owner. Empty when the chat was deleted.
    pub events: Vec<ChatEvent>,
    /// The member who became owner, if the owner left.
    pub new_owner: Option<UserId>,
    /// True when the last member left and the chat was deleted.
    pub chat_deleted: bool,
}

/// A message to append.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// The new message's id.
    pub id: MessageId,
    /// The chat.
    pub chat_id: ChatId,
    /// The sender.
    pub sender_id: UserId,
    /// The text.
    pub text: MessageText,
    /// The sender's idempotency key.
    pub client_id: Option<ClientId>,
    /// The message replied to (already checked to be in the same chat).
    pub reply_to: Option<MessageId>,
    /// Send time.
    pub created_at: Timestamp,
}

/// Which window of a chat's history to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageWindow {
    /// The newest messages.
    Latest,
    /// The highest seqs below this one.
    Before(u64),
    /// The lowest seqs above this one.
    After(u64),
}

/// Users: accounts and profiles.
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
pub trait UserStore {
    /// Creates a user. Fails with `UsernameTaken` if any user (deleted ones too) has the
    /// username.
    async fn create_user(&self, new: NewUser) -> StoreResult<User>;
    /// The user with this id, deleted ones included.
    async fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    /// The user with this username and their password hash.
    async fn credentials_by_username(&self, username: &Username) -> StoreResult<Option<UserCredentials>>;
    /// The user with this id and their password hash.
    async fn credentials_by_id(&self, id: &UserId) -> StoreResult<Option<UserCredentials>>;
    /// Changes the given profile fields and returns the profile. `NotFound` if absent.
    async fn update_profile(&self, id: &UserId, update: ProfileUpdate) -> StoreResult<User>;
    /// Replaces the password hash.
    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()>;
    /// Marks the account deleted: the profile is blanked (display name
    /// [`crate::model::DELETED_USER_NAME`]), the password hash dropped; the id and
    /// username stay taken.
    async fn mark_user_deleted(&self, id: &UserId) -> StoreResult<User>;
    /// Live (not deleted) users whose username or lowercased display name starts with
    /// `prefix` (lowercase), ordered by username, after `after_username`, at most `limit`.
    async fn search_users(&self, prefix: &str, after_username: Option<&str>, limit: usize) -> StoreResult<Vec<User>>;
}

/// Sessions: one per logged-in device.
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
pub trait SessionStore {
    /// Stores a new session.
    async fn create_session(&self, session: Session) -> StoreResult<()>;
    /// The session whose token hashes to `token_hash`.
    async fn session_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    /// The user's sessions, oldest first.
    async fn sessions_of_user(&self, user_id: &UserId) -> StoreResult<Vec<Session>>;
    /// Sets the session's `last_seen_at`.
    async fn touch_session(&self, id: &SessionId, at: Timestamp) -> StoreResult<()>;
    /// Deletes the session if it belongs to `user_id`; true if it did.
    async fn delete_session(&self, user_id: &UserId, id: &SessionId) -> StoreResult<bool>;
    /// Deletes all the user's sessions but `except`; returns the deleted ids.
    async fn delete_sessions_of_user(
        &self,
        user_id: &UserId,
        except: Option<&SessionId>,
    ) -> StoreResult<Vec<SessionId>>;
}

/// Chats and their members.
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
pub trait ChatStore {
    /// Creates a chat with its members. A direct chat is unique per pair of users: if the
    /// pair has one, it is returned as `Existing` and nothing is created. Creation records
    /// no chat event (members learn of the chat by `chat.added`).
    async fn create_chat(&self, new: NewChat) -> StoreResult<Created<Chat>>;
    /// The chat with this id.
    async fn chat(&self, id: &ChatId) -> StoreResult<Option<Chat>>;
    /// The membership of `user_id` in the chat.
    async fn member(&self, chat_id: &ChatId, user_id: &UserId) -> StoreResult<Option<Member>>;
    /// Members with profiles, ordered by (joined_at, user id), after `after`, at most `limit`.
    async fn members(
        &self,
        chat_id: &ChatId,
        after: Option<(Timestamp, UserId)>,
        limit: usize,
    ) -> StoreResult<Vec<MemberEntry>>;
    /// Every chat the user is a member of, with its `last_event_seq` (where a live
    /// subscription starts).
    async fn chat_heads(&self, user_id: &UserId) -> StoreResult<Vec<(ChatId, u64)>>;
    /// The users who see `user_id`'s presence: everyone sharing a direct chat with them,
    /// or a group of at most `max_group` members; without `user_id`, each once.
    async fn presence_audience(&self, user_id: &UserId, max_group: u64) -> StoreResult<Vec<UserId>>;
    /// The user's chats as summaries, most recently active first (by
    /// (last_activity_at, id) descending), strictly after `after`, at most `limit`.
    async fn chats_of_user(
        &self,
        user_id: &UserId,
        after: Option<(Timestamp, ChatId)>,
        limit: usize,
    ) -> StoreResult<Vec<ChatSummary>>;
    /// One chat as the member `user_id` sees it; `None` if not a member.
    async fn chat_summary(&self, chat_id: &ChatId, user_id: &UserId) -> StoreResult<Option<ChatSummary>>;
    /// Public groups whose lowercased title contains `query` (lowercase; empty matches
    /// all), ordered by (lowercased title, id), after `after`, at most `limit`.
    async fn search_public_chats(
        &self,
        query: &str,
        after: Option<(String, ChatId)>,
        limit: usize,
    ) -> StoreResult<Vec<Chat>>;
    /// Changes title and/or visibility and records `chat.updated`. `NotFound` if absent.
    async fn update_chat(&self, id: &ChatId, update: ChatUpdate) -> StoreResult<(Chat, ChatEvent)>;
    /// Adds `user` with `role` and records `chat.member_joined`; `None` if they already
    /// are a member (nothing changes). `NotFound` if the chat is absent.
    async fn add_member(
        &self,
        chat_id: &ChatId,
        user: &User,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<Option<(Member, ChatEvent)>>;
    /// Sets a member's role and records `chat.member_role`. `NotFound` if not a member,
    /// `Conflict` if they are the owner (whose role only changes by handover).
    async fn set_role(&self, chat_id: &ChatId, user_id: &UserId, role: Role) -> StoreResult<(Member, ChatEvent)>;
    /// Removes a member and records `chat.member_left`. If they owned the group, the
    /// oldest admin (else the oldest member) becomes owner (`member_role` and
    /// `chat.updated` are recorded). If nobody is left, the chat, its messages and its
    /// events are deleted. `NotFound` if not a member.
    async fn remove_member(&self, chat_id: &ChatId, user_id: &UserId, reason: LeaveReason) -> StoreResult<Removal>;
}

/// Read markers.
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
pub trait ReadMarkerStore {
    /// Moves the member's read marker up to `seq` (never back); returns the marker after
    /// the call. `NotFound` if not a member.
    async fn mark_read(&self, chat_id: &ChatId, user_id: &UserId, seq: u64) -> StoreResult<u64>;
}

/// Messages and the chat event log.
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
pub trait MessageStore {
    /// Appends a message in one atomic step: the chat's next seq, its next event_seq
    /// (`message.created`), and idempotency by (chat, sender, client_id): a repeated
    /// client_id returns the first message as `Existing`, with its creation event (the
    /// message as it is now, under the event_seq it was created with), and records
    /// nothing. Bumps the chat's last activity. `NotFound` if the chat is absent.
    async fn append_message(&self, new: NewMessage) -> StoreResult<Created<(Message, ChatEvent)>>;
    /// The message with this id in this chat (a message of another chat is `None`).
    async fn message(&self, chat_id: &ChatId, id: &MessageId) -> StoreResult<Option<Message>>;
    /// A window of at most `limit` messages, in ascending seq.
    async fn messages(&self, chat_id: &ChatId, window: MessageWindow, limit: usize) -> StoreResult<Vec<Message>>;
    /// Replaces a message's text, sets `edited_at`, records `message.edited`. `Conflict`
    /// if it is deleted (a tombstone never gets text back).
    async fn edit_message(
        &self,
        chat_id: &ChatId,
        id: &MessageId,
        text: &MessageText,
        at: Timestamp,
    ) -> StoreResult<(Message, ChatEvent)>;
    /// Tombstones a message (empty text, `deleted`), records `message.deleted`; `None`
    /// if it already was deleted.
    async fn delete_message(&self, chat_id: &ChatId, id: &MessageId) -> StoreResult<Option<(Message, ChatEvent)>>;
    /// At most `limit` chat events with event_seq > `after`, ascending, completed from
    /// the current rows ([`EventRecord::replay`]): a deleted message's `message.created`
    /// is its tombstone, an edited one's carries the current text, a deleted account's
    /// `member_joined` its blanked profile.
    async fn chat_events(&self, chat_id: &ChatId, after: u64, limit: usize) -> StoreResult<Vec<ChatEvent>>;
}

/// A whole backend.
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
pub trait Store: UserStore + SessionStore + ChatStore + ReadMarkerStore + MessageStore + SendSync {
    /// Checks that the backend answers (for readiness probes).
    async fn ping(&self) -> StoreResult<()>;

    /// The session whose token hashes to `token_hash`, with its user (every request
    /// asks this: a backend may answer it in one read).
    async fn session_with_user(&self, token_hash: &str) -> StoreResult<Option<(Session, Option<User>)>> {
        let Some(session) = self.session_by_token_hash(token_hash).await? else { return Ok(None) };
        let user = self.user(&session.user_id).await?;
        Ok(Some((session, user)))
    }

    /// The chat with the membership of `user_id` in it (every chat request asks this:
    /// a backend may answer it in one read).
    async fn chat_with_member(
        &self,
        chat_id: &ChatId,
        user_id: &UserId,
    ) -> StoreResult<Option<(Chat, Option<Member>)>> {
        let Some(chat) = self.chat(chat_id).await? else { return Ok(None) };
        let member = self.member(chat_id, user_id).await?;
        Ok(Some((chat, member)))
    }
}

/// `Send + Sync` natively; nothing on wasm, where stores are single-threaded.
#[cfg(not(target_family = "wasm"))]
pub trait SendSync: Send + Sync {}
#[cfg(not(target_family = "wasm"))]
impl<T: Send + Sync + ?Sized> SendSync for T {}
/// `Send + Sync` natively; nothing on wasm, where stores are single-threaded.
#[cfg(target_family = "wasm")]
pub trait SendSync {}
#[cfg(target_family = "wasm")]
impl<T: ?Sized> SendSync for T {}

/// The key that makes a direct chat unique per pair, whatever the order.
pub fn direct_pair_key(a: &UserId, b: &UserId) -> String {
    if a <= b { format!("{a}\n{b}") } else { format!("{b}\n{a}") }
}

/// Whether `message` is unread for `reader` with read marker `read_seq`: someone else's,
/// not deleted, above the marker. Shared by backends that count unread in memory.
pub fn is_unread(message: &Message, reader: &UserId, read_seq: u64) -> bool {
    message.seq > read_seq && &message.sender_id != reader && !message.deleted
}
