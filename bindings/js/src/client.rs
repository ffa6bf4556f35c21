//! `Client`: accounts, sessions, the chat list, search, and sync.

use crate::chat::ChatHandle;
use crate::convert::{from_js, to_js};
use crate::error::{JsResult, js};
use crate::subscription::{Subscription, observe, observe_list};
use crate::views::{ClientOptions, GroupOptions, ProfileChanges, SessionMode, SyncState};
use chatter_sdk::send_queue::BrowserSendQueueStore;
use chatter_sdk::session::BrowserSessionStore;
use chatter_sdk::{ChatId, ProfileUpdate, SessionId, UserId};
use wasm_bindgen::prelude::*;

/// The cookie in a page on the server's own origin (`location.origin`), else a token.
fn default_mode(server: &str) -> SessionMode {
    let origin = js_sys::Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|location| js_sys::Reflect::get(&location, &"origin".into()))
        .ok()
        .and_then(|o| o.as_string());
    match origin {
        Some(origin) if origin == server.trim_end_matches('/') => SessionMode::Cookie,
        _ => SessionMode::Token,
    }
}

/// A Chatter client: one user's connection to one server.
#[wasm_bindgen]
pub struct Client {
    inner: chatter_sdk::Client,
}

#[wasm_bindgen]
impl Client {
    /// A client for `options.server`, logged in already when `persistAs` names a saved
    /// session.
    pub async fn create(#[wasm_bindgen(unchecked_param_type = "ClientOptions")] options: JsValue) -> JsResult<Client> {
        let options: ClientOptions = from_js(options, "options")?;
        let mode = options.session.unwrap_or_else(|| default_mode(&options.server));
        let mut builder = chatter_sdk::Client::builder().server(options.server);
        if mode == SessionMode::Cookie {
            builder = builder.cookie_session();
        }
        if let Some(name) = &options.persist_as {
            builder = builder
                .session_store(BrowserSessionStore::new(name))
                .send_queue_store(BrowserSendQueueStore::new(name));
        }
        if let Some(device) = options.device_name {
            builder = builder.device_name(device);
        }
        Ok(Client { inner: js(builder.build().await)? })
    }

    /// The server's base URL.
    #[wasm_bindgen(getter)]
    pub fn server(&self) -> String {
        self.inner.server().to_owned()
    }

    /// The logged-in user's id, if any.
    #[wasm_bindgen(getter, js_name = userId)]
    pub fn user_id(&self) -> Option<String> {
        self.inner.user_id().map(|u| u.to_string())
    }

    /// Creates an account and logs in.
    #[wasm_bindgen(unchecked_return_type = "User")]
    pub async fn register(
        &self,
        username: String,
        password: String,
        display_name: Option<String>,
    ) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.register(&username, &password, display_name.as_deref()).await)?))
    }

    /// Logs in.
    #[wasm_bindgen(unchecked_return_type = "User")]
    pub async fn login(&self, username: String, password: String) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.login(&username, &password).await)?))
    }

    /// Logs out: the session ends on the server, sync stops.
    pub async fn logout(&self) -> JsResult<()> {
        js(self.inner.logout().await)
    }

    /// This user's sessions (devices).
    #[wasm_bindgen(unchecked_return_type = "SessionInfo[]")]
    pub async fn sessions(&self) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.sessions().await)?))
    }

    /// Ends one of this user's sessions.
    #[wasm_bindgen(js_name = revokeSession)]
    pub async fn revoke_session(&self, id: String) -> JsResult<()> {
        js(self.inner.revoke_session(&SessionId::new(id)).await)
    }

    /// The user's own profile.
    #[wasm_bindgen(unchecked_return_type = "User")]
    pub async fn profile(&self) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.profile().await)?))
    }

    /// Changes the profile (absent fields stay as they are).
    #[wasm_bindgen(js_name = updateProfile, unchecked_return_type = "User")]
    pub async fn update_profile(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ProfileChanges")] changes: JsValue,
    ) -> JsResult<JsValue> {
        let changes: ProfileChanges = from_js(changes, "changes")?;
        let update =
            ProfileUpdate { display_name: changes.display_name, bio: changes.bio, avatar_url: changes.avatar_url };
        Ok(to_js(&js(self.inner.update_profile(update).await)?))
    }

    /// Changes the password (other sessions end).
    #[wasm_bindgen(js_name = changePassword)]
    pub async fn change_password(&self, old_password: String, new_password: String) -> JsResult<()> {
        js(self.inner.change_password(&old_password, &new_password).await)
    }

    /// Deletes the account.
    #[wasm_bindgen(js_name = deleteAccount)]
    pub async fn delete_account(&self, password: String) -> JsResult<()> {
        js(self.inner.delete_account(&password).await)
    }

    /// A user's profile.
    #[wasm_bindgen(unchecked_return_type = "User")]
    pub async fn user(&self, id: String) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.user(&UserId::new(id)).await)?))
    }

    /// Users whose username or display name starts with `prefix` (2 characters at least).
    #[wasm_bindgen(js_name = searchUsers, unchecked_return_type = "UserList")]
    pub async fn search_users(&self, prefix: String, cursor: Option<String>) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.search_users(&prefix, cursor.as_deref()).await)?))
    }

    /// Public groups matching `query`.
    #[wasm_bindgen(js_name = publicChats, unchecked_return_type = "PublicChatList")]
    pub async fn public_chats(&self, query: String, cursor: Option<String>) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.public_chats(&query, cursor.as_deref()).await)?))
    }

    /// Creates a group.
    #[wasm_bindgen(js_name = createGroup, unchecked_return_type = "Chat")]
    pub async fn create_group(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GroupOptions")] options: JsValue,
    ) -> JsResult<JsValue> {
        let o: GroupOptions = from_js(options, "options")?;
        Ok(to_js(&js(self.inner.create_group(&o.title, o.visibility, &o.members).await)?))
    }

    /// Opens (or finds) the direct chat with `user`.
    #[wasm_bindgen(js_name = createDirect, unchecked_return_type = "Chat")]
    pub async fn create_direct(&self, user: String) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.create_direct(&UserId::new(user)).await)?))
    }

    /// The handle for one chat (no I/O).
    pub fn chat(&self, id: String) -> ChatHandle {
        ChatHandle::new(self.inner.chat(&ChatId::new(id)))
    }

    /// The user's chats, most recent first.
    #[wasm_bindgen(js_name = chatList, unchecked_return_type = "ChatListItem[]")]
    pub fn chat_list(&self) -> JsValue {
        to_js(&self.inner.chat_list().items().iter().collect::<Vec<_>>())
    }

    /// Calls `callback` with the chat list now and at each change.
    #[wasm_bindgen(js_name = subscribeChatList)]
    pub fn subscribe_chat_list(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(items: ChatListItem[]) => void")] callback: js_sys::Function,
    ) -> Subscription {
        let list = self.inner.chat_list();
        let (_, changes) = list.subscribe();
        observe_list(Box::pin(changes), move || to_js(&list.items().iter().collect::<Vec<_>>()), callback)
    }

    /// Starts the realtime connection (reconnecting by itself until stopped).
    #[wasm_bindgen(js_name = startSync)]
    pub fn start_sync(&self) {
        self.inner.start_sync();
    }

    /// Stops the realtime connection.
    #[wasm_bindgen(js_name = stopSync)]
    pub fn stop_sync(&self) {
        self.inner.stop_sync();
    }

    /// Stops everything the client runs (sync, calls); it is unusable after.
    pub fn dispose(&self) {
        self.inner.dispose();
    }

    /// What the realtime connection is doing.
    #[wasm_bindgen(js_name = syncState, unchecked_return_type = "SyncState")]
    pub fn sync_state(&self) -> JsValue {
        to_js(&SyncState::from(&self.inner.sync_state().get()))
    }

    /// Calls `callback` with the sync state now and at each change.
    #[wasm_bindgen(js_name = subscribeSyncState)]
    pub fn subscribe_sync_state(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: SyncState) => void")] callback: js_sys::Function,
    ) -> Subscription {
        observe(self.inner.sync_state(), |s| to_js(&SyncState::from(s)), callback)
    }

    /// Who is online among the people this user shares chats with.
    #[wasm_bindgen(js_name = onlineUsers, unchecked_return_type = "UserId[]")]
    pub fn online_users(&self) -> JsValue {
        to_js(&self.inner.online_users().get())
    }

    /// Calls `callback` with who is online now and at each change.
    #[wasm_bindgen(js_name = subscribeOnlineUsers)]
    pub fn subscribe_online_users(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(users: UserId[]) => void")] callback: js_sys::Function,
    ) -> Subscription {
        observe(self.inner.online_users(), to_js, callback)
    }

    /// The calls running in this user's chats: call id by chat id.
    #[wasm_bindgen(js_name = runningCalls, unchecked_return_type = "Record<ChatId, CallId>")]
    pub fn running_calls(&self) -> JsValue {
        to_js(&self.inner.running_calls().get())
    }

    /// Calls `callback` with the running calls now and at each change (an incoming call
    /// appears here).
    #[wasm_bindgen(js_name = subscribeRunningCalls)]
    pub fn subscribe_running_calls(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(calls: Record<ChatId, CallId>) => void")] callback: js_sys::Function,
    ) -> Subscription {
        observe(self.inner.running_calls(), to_js, callback)
    }

    /// Messages waiting to be sent, oldest first.
    #[wasm_bindgen(js_name = queuedSends, unchecked_return_type = "QueuedSend[]")]
    pub fn queued_sends(&self) -> JsValue {
        to_js(&self.inner.queued_sends())
    }
}
