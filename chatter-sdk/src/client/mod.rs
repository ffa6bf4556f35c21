//! The client: accounts, sessions, chats and members over REST, and the handles to the
//! chat list, timelines and the sync service.

mod builder;

pub use builder::ClientBuilder;

use crate::api::{Api, HistoryPage};
use crate::call_router::CallRouter;
use crate::chat_list::{ChatList, ChatListItem};
use crate::error::{Result, SdkError};
use crate::platform;
use crate::send_queue::{QueuedSend, SendQueueStore};
use crate::session::{Session, SessionStore};
use crate::state::{State, StateCell};
use crate::sync::{SyncCommand, SyncHandle, SyncState};
use crate::timeline::Timeline;
use crate::transport::WebSocketConnector;
use chatter_core::model::{Chat, Role, User, Visibility};
use chatter_core::protocol::ws::ClientFrame;
use chatter_core::protocol::{
    ChangePasswordRequest, ChatView, CreateChatRequest, DeleteAccountRequest, LoginRequest, MemberView, PublicChatList,
    RegisterRequest, SessionInfo, UpdateChatRequest, UpdateProfileRequest, UserList,
};
use chatter_core::{ChatId, MessageId, SessionId, UserId};
use eyeball::{SharedObservable, Subscriber};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

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
/// let timeline = client.timeline(&chat.id).await?;
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

/// Everything a client shares with its clones and its sync task.
#[derive(Debug)]
pub(crate) struct ClientInner {
    pub(crate) api: Api,
    pub(crate) ws: Arc<dyn WebSocketConnector>,
    session: RwLock<Option<Session>>,
    session_store: Arc<dyn SessionStore>,
    pub(crate) queue_store: Arc<dyn SendQueueStore>,
    device_name: Option<String>,
    state: StateCell,
    sync_state: SharedObservable<SyncState>,
    /// Bumped by every start of the sync service: only the newest task reports state.
    sync_generation: std::sync::atomic::AtomicU64,
    sync: Mutex<Option<SyncHandle>>,
    persisting: tokio::sync::Mutex<()>,
    /// The running calls, for the call frames the sync connection receives.
    pub(crate) calls: CallRouter,
}

impl ClientInner {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// The logged-in user, or `Unauthenticated`.
    pub(crate) fn me(&self) -> Result<UserId> {
        self.session().map(|s| s.user_id).ok_or(SdkError::Unauthenticated)
    }

    pub(crate) fn session(&self) -> Option<Session> {
        self.session.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Switches to `session` (or none) in memory: the token for requests and the state.
    pub(crate) fn use_session(&self, session: Option<Session>) {
        self.api.set_token(session.as_ref().map(|s| s.token.clone()));
        self.state().set_me(session.as_ref().map(|s| s.user_id.clone()));
        *self.session.write().unwrap_or_else(|e| e.into_inner()) = session;
    }

    async fn start_session(&self, session: Session) -> Result<()> {
        self.session_store.save(&session).await?;
        self.use_session(Some(session));
        Ok(())
    }

    /// The server ended the session (401, or a 4001 close): forget it.
    pub(crate) async fn session_ended(&self) {
        self.use_session(None);
        if let Err(e) = self.session_store.clear().await {
            tracing::warn!(error = %e, "could not clear the saved session");
        }
    }

    /// Asks the sync task to send a frame (dropped when not connected).
    pub(crate) fn send_frame(&self, frame: ClientFrame) {
        if let Some(sync) = self.sync.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            sync.send(SyncCommand::Frame(frame));
        }
    }

    fn nudge_queue(&self) {
        if let Some(sync) = self.sync.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            sync.send(SyncCommand::QueueChanged);
        }
    }

    /// Saves the queue. Saves run one at a time and each copies the queue once it is
    /// its turn, so an older copy never lands after a newer one.
    pub(crate) async fn persist_queue(&self) -> Result<()> {
        let _turn = self.persisting.lock().await;
        let queue = self.state().queue();
        self.queue_store.save(&queue).await
    }

    /// Saves the queue where a failure must not stop the caller (the queue in memory
    /// still goes out; it is saved again at its next change).
    pub(crate) async fn persist_queue_or_log(&self) {
        if let Err(e) = self.persist_queue().await {
            tracing::warn!(error = %e, "could not save the send queue");
        }
    }

    pub(crate) async fn enqueue(&self, chat_id: &ChatId, text: String, reply_to: Option<MessageId>) -> Result<String> {
        let me = self.me()?;
        if text.trim().is_empty() {
            return Err(SdkError::Validation { field: Some("text".into()), message: "a message needs text".into() });
        }
        let client_id = format!("{:016x}{:016x}", platform::random_u64(), platform::random_u64());
        let send = QueuedSend {
            chat_id: chat_id.clone(),
            client_id: client_id.clone(),
            text,
            reply_to,
            created_at: platform::now(),
            sender_id: Some(me),
        };
        self.state().enqueue(send);
        // Queued in memory, it will be sent: a failed save must not make the app send
        // it again under a new client_id.
        self.persist_queue_or_log().await;
        self.nudge_queue();
        Ok(client_id)
    }

    pub(crate) async fn retry(&self, client_id: &str) -> Result<()> {
        let requeued = {
            let mut state = self.state();
            if state.queued(client_id).is_some() {
                false
            } else {
                let send = state.failed_send(client_id).ok_or_else(|| SdkError::NotFound("no such send".into()))?;
                state.echo_pending(&send);
                state.requeue(send);
                true
            }
        };
        if requeued {
            self.persist_queue().await?;
        }
        self.nudge_queue();
        Ok(())
    }

    pub(crate) async fn cancel(&self, client_id: &str) -> Result<()> {
        {
            let mut state = self.state();
            let chat = state
                .queued(client_id)
                .map(|q| q.chat_id.clone())
                .or_else(|| state.failed_send(client_id).map(|q| q.chat_id))
                .ok_or_else(|| SdkError::NotFound("no such send".into()))?;
            state.dequeue(client_id);
            state.remove_echo(&chat, client_id);
        }
        self.persist_queue().await
    }

    /// Reports the state of sync task `generation`, unless a newer one was started.
    pub(crate) fn set_sync_state(&self, generation: u64, state: SyncState) {
        if self.sync_generation.load(std::sync::atomic::Ordering::SeqCst) == generation {
            self.sync_state.set(state);
        }
    }

    fn stop_sync(&self) {
        if let Some(sync) = self.sync.lock().unwrap_or_else(|e| e.into_inner()).take() {
            sync.send(SyncCommand::Stop);
        }
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
            cookie: None,
        };
        let auth = self.inner.api.register(&req).await?;
        let session = Session { user_id: auth.user.id.clone(), session_id: auth.session_id, token: auth.token };
        self.inner.start_session(session).await?;
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
            cookie: None,
        };
        let auth = self.inner.api.login(&req).await?;
        let session = Session { user_id: auth.user.id.clone(), session_id: auth.session_id, token: auth.token };
        self.inner.start_session(session).await?;
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

    /// The user's chats, kept current by the sync service.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// for item in client.chat_list().items() {
    ///     println!("{:?}: {} unread", item.chat.title, item.unread_count);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn chat_list(&self) -> ChatList {
        ChatList::new(self.clone())
    }

    /// A chat's timeline (reading its newest page the first time).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// # let chat_id = chatter_sdk::ChatId::new("c");
    /// let timeline = client.timeline(&chat_id).await?;
    /// println!("{} messages loaded", timeline.items().len());
    /// # Ok(()) }
    /// ```
    pub async fn timeline(&self, chat_id: &ChatId) -> Result<Timeline> {
        self.call(Timeline::open(self.clone(), chat_id.clone())).await
    }

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
    ///     client.join(&first.id).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn public_chats(&self, query: &str, cursor: Option<&str>) -> Result<PublicChatList> {
        self.call(self.inner.api.public_chats(query, cursor)).await
    }

    /// Joins a public group; its timeline starts with the page the join returned.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let chat = client.join(&"c_rust".into()).await?;
    /// let timeline = client.timeline(&chat.id).await?; // no second read: the join brought a page
    /// # Ok(()) }
    /// ```
    pub async fn join(&self, chat_id: &ChatId) -> Result<Chat> {
        let joined = self.call(self.inner.api.join(chat_id)).await?;
        let me = self.inner.me()?;
        let mut state = self.inner.state();
        let last = joined.messages.last().cloned();
        let item = ChatListItem {
            chat: joined.chat.clone(),
            role: Role::Member,
            unread_count: 0,
            read_seq: last.as_ref().map_or(0, |m| m.seq),
            last_message: last,
        };
        state.learn_chat(item);
        state.open_timeline(chat_id, &me);
        let size = joined.messages.len().max(1);
        state.merge_page(chat_id, joined.messages, size, true);
        Ok(joined.chat)
    }

    /// Leaves a group.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.leave(&"c_rust".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn leave(&self, chat_id: &ChatId) -> Result<()> {
        self.call(self.inner.api.leave(chat_id)).await?;
        self.inner.state().forget_chat(chat_id);
        Ok(())
    }

    /// A chat (its summary for members; the plain chat for visitors of a public group).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::protocol::ChatView;
    /// if let ChatView::Member(summary) = client.chat(&"c_team".into()).await? {
    ///     println!("{} unread", summary.unread_count);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn chat(&self, chat_id: &ChatId) -> Result<ChatView> {
        self.call(self.inner.api.chat(chat_id)).await
    }

    /// Renames a group or changes its visibility (owners and admins).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::model::Visibility;
    /// client.update_chat(&"c_team".into(), Some("Team (archived)"), Some(Visibility::Private)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_chat(
        &self,
        chat_id: &ChatId,
        title: Option<&str>,
        visibility: Option<Visibility>,
    ) -> Result<Chat> {
        let req = UpdateChatRequest { title: title.map(str::to_owned), visibility };
        self.call(self.inner.api.update_chat(chat_id, &req)).await
    }

    /// Every member of a chat.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// for m in client.members(&"c_team".into()).await? {
    ///     println!("{} ({:?})", m.user.username, m.role);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn members(&self, chat_id: &ChatId) -> Result<Vec<MemberView>> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.call(self.inner.api.members(chat_id, cursor.as_deref())).await?;
            all.extend(page.members);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Adds a user to a group (owners and admins; members of public groups).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.invite(&"c_team".into(), &"u_carol".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn invite(&self, chat_id: &ChatId, user: &UserId) -> Result<MemberView> {
        self.call(self.inner.api.add_member(chat_id, user)).await
    }

    /// Removes a member from a group (owners and admins).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.kick(&"c_team".into(), &"u_carol".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn kick(&self, chat_id: &ChatId, user: &UserId) -> Result<()> {
        self.call(self.inner.api.remove_member(chat_id, user)).await
    }

    /// Makes a member an `admin` or a `member` (the owner only).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.set_role(&"c_team".into(), &"u_bob".into(), "admin").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_role(&self, chat_id: &ChatId, user: &UserId, role: &str) -> Result<MemberView> {
        self.call(self.inner.api.set_role(chat_id, user, role)).await
    }

    /// Reads the newest `limit` messages of a chat straight from the server.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let newest = client.latest_messages(&"c_team".into(), 20).await?;
    /// # Ok(()) }
    /// ```
    pub async fn latest_messages(&self, chat_id: &ChatId, limit: u32) -> Result<Vec<chatter_core::model::Message>> {
        self.call(self.inner.api.messages(chat_id, HistoryPage::Latest, limit)).await
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
