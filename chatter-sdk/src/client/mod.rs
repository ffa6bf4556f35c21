//! The client: accounts, sessions, chats and members over REST, and the handles to the
//! chat list, timelines and the sync service.

mod builder;
pub(crate) mod inner;

pub use builder::ClientBuilder;
pub(crate) use inner::ClientInner;

use crate::error::{Result, SdkError};
use crate::send_queue::QueuedSend;
use crate::session::Session;
use crate::state::ChatListItem;
use crate::sync::handle::SyncState;
use chatter_core::model::{Chat, Role, User, Visibility};
use chatter_core::protocol::{
    ChangePasswordRequest, CreateChatRequest, DeleteAccountRequest, LoginRequest, PublicChatList, RegisterRequest,
    SessionInfo, UpdateProfileRequest, UserList,
};
use chatter_core::{CallId, ChatId, SessionId, UserId};
use eyeball::Subscriber;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A connection to one Chatter server as one user. Cheap to clone: clones share
/// everything. Dropping the last clone (and every chat list and timeline made from it)
/// stops its sync service.
///
/// ```no_run
/// # async fn demo() -> chatter_sdk::Result<()> {
/// use chatter_sdk::Client;
/// use chatter_sdk::model::Visibility;
///
/// let client = Client::builder().server("http://127.0.0.1:8080").build().await?;
/// client.register("alice", "correct horse battery", None).await?;
/// client.start_sync();
/// let chat = client.create_group("Team", Visibility::Private, &[]).await?;
/// let timeline = client.chat(&chat.id).timeline().await?;
/// timeline.send("hello").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
    _alive: Arc<StopOnDrop>,
}

/// Stops the sync service when the last handle of the app's goes.
#[derive(Debug)]
struct StopOnDrop(Arc<ClientInner>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop_sync();
    }
}

/// A profile change; fields left `None` stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
///
/// ```no_run
/// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
/// let update = chatter_sdk::ProfileUpdate { display_name: Some("Alice L.".into()), ..Default::default() };
/// client.update_profile(update).await?;
/// # Ok(()) }
/// ```
pub struct ProfileUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New bio.
    pub bio: Option<String>,
    /// New avatar URL.
    pub avatar_url: Option<String>,
}

impl Client {
    /// Starts configuring a client.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let client = chatter_sdk::Client::builder().server("http://127.0.0.1:8080").build().await?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    // On wasm32 the client holds JavaScript values (not `Send`) and runs on one thread:
    // the `Arc` is for sharing, not for threads.
    #[cfg_attr(target_family = "wasm", allow(clippy::arc_with_non_send_sync))]
    fn from_inner(inner: ClientInner) -> Self {
        let inner = Arc::new(inner);
        Self { _alive: Arc::new(StopOnDrop(inner.clone())), inner }
    }

    /// The server's base URL.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// println!("connected to {}", client.server());
    /// # Ok(()) }
    /// ```
    pub fn server(&self) -> &str {
        self.inner.api.base()
    }

    /// The current session, if logged in (persist it yourself, or give the builder a
    /// session store).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// if let Some(session) = client.session() {
    ///     println!("logged in as {}", session.user_id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn session(&self) -> Option<Session> {
        self.inner.session()
    }

    /// The logged-in user's id.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let me = client.user_id().expect("logged in");
    /// # Ok(()) }
    /// ```
    pub fn user_id(&self) -> Option<UserId> {
        self.inner.session().map(|s| s.user_id)
    }

    // Accounts and sessions.

    /// Creates an account and logs in as it.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let user = client.register("alice", "correct horse battery", Some("Alice")).await?;
    /// assert_eq!(user.username, "alice");
    /// # Ok(()) }
    /// ```
    pub async fn register(&self, username: &str, password: &str, display_name: Option<&str>) -> Result<User> {
        let req = RegisterRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            display_name: display_name.map(str::to_owned),
            device_name: self.inner.device_name.clone(),
            cookie: self.inner.cookie_session.then_some(true),
        };
        let auth = self.inner.api.register(&req).await?;
        self.inner.start_session(self.inner.session_from(auth.user.id.clone(), auth.session_id, auth.token)).await?;
        Ok(auth.user)
    }

    /// Logs in with a username and password.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let user = client.login("alice", "correct horse battery").await?;
    /// # Ok(()) }
    /// ```
    pub async fn login(&self, username: &str, password: &str) -> Result<User> {
        let req = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            device_name: self.inner.device_name.clone(),
            cookie: self.inner.cookie_session.then_some(true),
        };
        let auth = self.inner.api.login(&req).await?;
        self.inner.start_session(self.inner.session_from(auth.user.id.clone(), auth.session_id, auth.token)).await?;
        Ok(auth.user)
    }

    /// Continues a session saved earlier, without a login (and saves it in the session
    /// store). A session the server no longer knows fails later calls with
    /// `Unauthenticated`.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// # let saved = client.session().unwrap();
    /// // `saved` was kept by the app from an earlier run.
    /// client.restore(saved).await?;
    /// # Ok(()) }
    /// ```
    pub async fn restore(&self, session: Session) -> Result<()> {
        self.inner.start_session(session).await
    }

    /// Ends the session on the server and forgets it here (stopping sync).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.logout().await?;
    /// assert!(client.user_id().is_none());
    /// # Ok(()) }
    /// ```
    pub async fn logout(&self) -> Result<()> {
        self.inner.stop_sync();
        let result = match self.inner.api.logout().await {
            Ok(()) | Err(SdkError::Unauthenticated) => Ok(()),
            Err(e) => Err(e),
        };
        self.inner.session_ended().await;
        result
    }

    /// The sessions of the user (one per device).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// for s in client.sessions().await? {
    ///     println!("{:?} last seen {}{}", s.device_name, s.last_seen_at, if s.current { " (this one)" } else { "" });
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>> {
        self.call(self.inner.api.sessions()).await.map(|l| l.sessions)
    }

    /// Ends one of the user's sessions (another device, or this one).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// for s in client.sessions().await?.into_iter().filter(|s| !s.current) {
    ///     client.revoke_session(&s.id).await?; // log out every other device
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn revoke_session(&self, id: &SessionId) -> Result<()> {
        self.call(self.inner.api.revoke_session(id)).await
    }

    /// The user's own profile.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let me = client.profile().await?;
    /// println!("{} ({})", me.display_name, me.username);
    /// # Ok(()) }
    /// ```
    pub async fn profile(&self) -> Result<User> {
        self.call(self.inner.api.me()).await
    }

    /// Changes the user's profile.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::ProfileUpdate;
    /// client.update_profile(ProfileUpdate { bio: Some("On call this week".into()), ..Default::default() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_profile(&self, update: ProfileUpdate) -> Result<User> {
        let req =
            UpdateProfileRequest { display_name: update.display_name, bio: update.bio, avatar_url: update.avatar_url };
        self.call(self.inner.api.update_me(&req)).await
    }

    /// Changes the password (other sessions end).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.change_password("correct horse battery", "battery staple horse correct").await?;
    /// # Ok(()) }
    /// ```
    pub async fn change_password(&self, old_password: &str, new_password: &str) -> Result<()> {
        let req =
            ChangePasswordRequest { old_password: old_password.to_owned(), new_password: new_password.to_owned() };
        self.call(self.inner.api.change_password(&req)).await
    }

    /// Deletes the account (every session ends, this one too).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.delete_account("correct horse battery").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_account(&self, password: &str) -> Result<()> {
        self.inner.stop_sync();
        self.call(self.inner.api.delete_me(&DeleteAccountRequest { password: password.to_owned() })).await?;
        self.inner.session_ended().await;
        Ok(())
    }

    /// A user's public profile.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let bob = client.user(&"u_bob".into()).await?;
    /// println!("{}", bob.display_name);
    /// # Ok(()) }
    /// ```
    pub async fn user(&self, id: &UserId) -> Result<User> {
        self.call(self.inner.api.user(id)).await
    }

    /// Users whose username starts with `prefix`, a page at a time (`cursor` from the
    /// previous page's `next_cursor`).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let page = client.search_users("bo", None).await?;
    /// let usernames: Vec<_> = page.users.iter().map(|u| u.username.as_str()).collect();
    /// println!("{usernames:?}, more: {}", page.next_cursor.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn search_users(&self, prefix: &str, cursor: Option<&str>) -> Result<UserList> {
        self.call(self.inner.api.search_users(prefix, None, cursor)).await
    }

    // Chats.

    /// Creates a group with the given members besides the user (its owner).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::model::Visibility;
    /// let chat = client.create_group("Design", Visibility::Private, &["u_bob".into()]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_group(&self, title: &str, visibility: Visibility, members: &[UserId]) -> Result<Chat> {
        let req = CreateChatRequest::Group { title: title.to_owned(), visibility, members: members.to_vec() };
        let chat = self.call(self.inner.api.create_chat(&req)).await?;
        self.learn(chat.clone(), Role::Owner);
        Ok(chat)
    }

    /// Opens the direct chat with `user` (the same one every time).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let chat = client.create_direct(&"u_bob".into()).await?;
    /// let again = client.create_direct(&"u_bob".into()).await?;
    /// assert_eq!(chat.id, again.id);
    /// # Ok(()) }
    /// ```
    pub async fn create_direct(&self, user: &UserId) -> Result<Chat> {
        let req = CreateChatRequest::Direct { members: vec![user.clone()] };
        let chat = self.call(self.inner.api.create_chat(&req)).await?;
        self.learn(chat.clone(), Role::Member);
        Ok(chat)
    }

    /// Adds a chat just created to the list (an existing direct chat keeps its entry).
    fn learn(&self, chat: Chat, role: Role) {
        let mut state = self.inner.state();
        if !state.knows(&chat.id) {
            state.learn_chat(ChatListItem { chat, role, last_message: None, unread_count: 0, read_seq: 0 });
        }
    }

    /// Public groups whose title matches `query`, a page at a time.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let found = client.public_chats("rust", None).await?;
    /// if let Some(first) = found.chats.first() {
    ///     client.chat(&first.id).join().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn public_chats(&self, query: &str, cursor: Option<&str>) -> Result<PublicChatList> {
        self.call(self.inner.api.public_chats(query, cursor)).await
    }

    // Sync.

    /// Starts the sync service (once; later calls do nothing while it runs): it keeps a
    /// WebSocket open, resumes every chat after each reconnect, keeps the chat list and
    /// timelines current and sends the queued messages.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.start_sync();
    /// # Ok(()) }
    /// ```
    pub fn start_sync(&self) {
        let mut sync = self.inner.sync.lock().unwrap_or_else(|e| e.into_inner());
        if sync.as_ref().is_some_and(|s| !s.is_finished()) {
            return;
        }
        let generation = self.inner.sync_generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        *sync = Some(crate::sync::start(self.inner.clone(), generation));
    }

    /// Stops everything the client runs: its calls leave, and the sync service stops
    /// (queued sends stay queued, and saved if a queue store is set). For an app or a
    /// browser page going away; the client can still make REST calls, and
    /// [`start_sync`](Self::start_sync) starts sync again.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.dispose(); // e.g. on the page's `pagehide`
    /// # Ok(()) }
    /// ```
    pub fn dispose(&self) {
        self.inner.calls.leave_all();
        self.inner.stop_sync();
    }

    /// Stops the sync service (the WebSocket closes; queued sends wait).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.stop_sync(); // e.g. when the app goes to the background
    /// # Ok(()) }
    /// ```
    pub fn stop_sync(&self) {
        self.inner.stop_sync();
    }

    /// The sync service's state, observable.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::SyncState;
    /// let mut state = client.sync_state();
    /// while let Some(s) = state.next().await {
    ///     if let SyncState::Reconnecting { attempt, next_in } = s {
    ///         println!("offline, retry {attempt} in {next_in:?}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn sync_state(&self) -> Subscriber<SyncState> {
        self.inner.sync_state.subscribe()
    }

    /// The users seen online among those the user shares a direct chat or a group of at
    /// most 100 members with, as the server announces them while sync runs.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let mut online = client.online_users();
    /// while let Some(users) = online.next().await {
    ///     println!("{} online", users.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn online_users(&self) -> Subscriber<BTreeSet<UserId>> {
        self.inner.state().awareness.online().subscribe()
    }

    /// The calls running in the user's chats, by chat: a new entry is an incoming call
    /// to ring for (join it with [`ChatHandle::join_call`](crate::ChatHandle)).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let mut calls = client.running_calls();
    /// while let Some(calls) = calls.next().await {
    ///     for chat_id in calls.keys() {
    ///         println!("a call is running in {chat_id}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn running_calls(&self) -> Subscriber<BTreeMap<ChatId, CallId>> {
        self.inner.state().awareness.calls().subscribe()
    }

    /// Messages waiting to be sent, oldest first.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// println!("{} messages wait for the network", client.queued_sends().len());
    /// # Ok(()) }
    /// ```
    pub fn queued_sends(&self) -> Vec<QueuedSend> {
        self.inner.state().queue()
    }

    /// Runs an API call; a 401 means the session ended: forget it.
    pub(crate) async fn call<T>(&self, call: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        let result = call.await;
        if matches!(result, Err(SdkError::Unauthenticated)) && self.inner.session().is_some() {
            self.inner.session_ended().await;
        }
        result
    }
}
