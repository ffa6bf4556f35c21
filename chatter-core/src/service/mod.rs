//! Services: the rules of Chatter as methods over the store traits. Every method takes
//! the caller's [`Caller`] identity, checks who may do what, validates input into value
//! types, calls the store, and publishes what changed to a [`NoticeSink`] (the server's
//! broker fans notices out to sockets).

mod accounts;
mod chats;
mod messages;
mod throttle;

pub use accounts::{Login, RegisterInput};
pub use chats::CreateChat;
pub use messages::SendInput;
pub use throttle::{LoginLimiter, LoginThrottle};

use crate::error::Error;
use crate::id::{ChatId, SessionId, UserId};
use crate::model::{Chat, ChatEvent, Member, User};
use crate::permissions::{self, Action};
use crate::store::Store;
use crate::time::Timestamp;
use crate::value::Password;
use async_trait::async_trait;
use std::sync::Arc;

/// Tells the time. The server passes the system clock; tests pass a fake one.
pub trait Clock: crate::store::SendSync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// Makes new unique ids.
pub trait IdGenerator: crate::store::SendSync {
    /// A new id, unique among all ids this generator and its peers make.
    fn new_id(&self) -> String;
}

/// Password hashing and session tokens: CPU-heavy or random work the host does.
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait)]
pub trait Credentials: crate::store::SendSync {
    /// Hashes a password (Argon2id PHC string).
    async fn hash_password(&self, password: &Password) -> Result<String, Error>;
    /// Checks a password against a hash. With `None` it still does the same work
    /// against a dummy hash and answers false, so timing does not reveal whether a
    /// user exists.
    async fn verify_password(&self, password: &Password, hash: Option<&str>) -> Result<bool, Error>;
    /// A new random bearer token.
    fn new_token(&self) -> String;
    /// The hash under which a token is stored and looked up.
    fn token_hash(&self, token: &str) -> String;
}

/// Something that happened that connected clients may need to hear about. It
/// serialises so that a server can pass it between nodes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    /// A change inside a chat, for its members.
    Chat(ChatEvent),
    /// `user_id` was added to `chat`.
    ChatAdded {
        /// Who.
        user_id: UserId,
        /// The chat.
        chat: Chat,
    },
    /// `user_id` left or lost a chat (removed, left, or the chat was deleted).
    ChatRemoved {
        /// Who.
        user_id: UserId,
        /// Which chat.
        chat_id: ChatId,
    },
    /// A read marker moved.
    Read {
        /// Where.
        chat_id: ChatId,
        /// Whose.
        user_id: UserId,
        /// Up to which seq.
        seq: u64,
    },
    /// These sessions were revoked: their sockets must close (4001).
    SessionsRevoked {
        /// Whose.
        user_id: UserId,
        /// Which.
        session_ids: Vec<SessionId>,
    },
}

/// Receives notices. Must not block: implementations enqueue.
pub trait NoticeSink: crate::store::SendSync {
    /// Takes one notice.
    fn publish(&self, notice: Notice);
}

/// A sink that drops every notice (no realtime delivery).
#[derive(Debug, Default)]
pub struct NoSink;

impl NoticeSink for NoSink {
    fn publish(&self, _notice: Notice) {}
}

/// Who is calling: the authenticated user and session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// Their session.
    pub session_id: SessionId,
}

impl Caller {
    /// The caller's user id.
    pub fn user_id(&self) -> &UserId {
        &self.user.id
    }
}

/// Settings of the rules.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// A session unused for this long expires.
    pub session_idle_ttl_micros: i64,
    /// `last_seen_at` is written at most this often per session.
    pub session_touch_interval_micros: i64,
    /// Failed logins allowed per username within `login_window_micros`.
    pub login_failures: u32,
    /// The window of `login_failures`.
    pub login_window_micros: i64,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        const DAY: i64 = 86_400_000_000;
        Self {
            session_idle_ttl_micros: 30 * DAY,
            session_touch_interval_micros: 60_000_000,
            login_failures: 10,
            login_window_micros: 5 * 60_000_000,
        }
    }
}

fn throttle_for(config: &ServiceConfig) -> LoginThrottle {
    LoginThrottle::new(config.login_failures, config.login_window_micros)
}

/// The Chatter services over one store.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    credentials: Arc<dyn Credentials>,
    sink: Arc<dyn NoticeSink>,
    config: ServiceConfig,
    logins: Arc<dyn LoginLimiter>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Service {
    /// Services over `store`, with the host's clock, id generator and credentials.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        credentials: Arc<dyn Credentials>,
    ) -> Self {
        Self {
            store,
            clock,
            ids,
            credentials,
            sink: Arc::new(NoSink),
            logins: Arc::new(throttle_for(&ServiceConfig::default())),
            config: ServiceConfig::default(),
        }
    }

    /// Sends notices to `sink` instead of dropping them.
    pub fn with_sink(mut self, sink: Arc<dyn NoticeSink>) -> Self {
        self.sink = sink;
        self
    }

    /// Uses these settings (and counts failed logins in memory by them).
    pub fn with_config(mut self, config: ServiceConfig) -> Self {
        self.logins = Arc::new(throttle_for(&config));
        self.config = config;
        self
    }

    /// Counts failed logins in `limiter` instead (e.g. one that many server nodes
    /// share). Call it after [`Service::with_config`], which resets the limiter.
    pub fn with_login_limiter(mut self, limiter: Arc<dyn LoginLimiter>) -> Self {
        self.logins = limiter;
        self
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn publish(&self, notice: Notice) {
        self.sink.publish(notice);
    }

    fn publish_events(&self, events: impl IntoIterator<Item = ChatEvent>) {
        for e in events {
            self.publish(Notice::Chat(e));
        }
    }

    /// Loads a chat and the caller's membership, and checks `action` (a chat the caller
    /// may not see is "not found").
    async fn authorize(
        &self,
        caller: &Caller,
        chat_id: &ChatId,
        action: Action<'_>,
    ) -> Result<(Chat, Option<Member>), Error> {
        let (chat, member) = self.chat_and_membership(caller, chat_id).await?;
        permissions::check(&chat, caller.user_id(), member.as_ref(), action)?;
        Ok((chat, member))
    }

    async fn chat_and_membership(&self, caller: &Caller, chat_id: &ChatId) -> Result<(Chat, Option<Member>), Error> {
        self.store.chat_with_member(chat_id, caller.user_id()).await?.ok_or_else(|| Error::not_found("chat"))
    }
}
