//! What a client shares with its clones, its handles and its sync task: the API, the
//! session, the state, the send queue and the handle of the sync task.

use crate::api::Api;
use crate::call_router::CallRouter;
use crate::error::{Result, SdkError};
use crate::platform;
use crate::send_queue::{QueuedSend, SendQueueStore};
use crate::session::{Session, SessionStore};
use crate::state::{State, StateCell};
use crate::sync::handle::{SyncCommand, SyncHandle, SyncState};
use crate::transport::WebSocketConnector;
use chatter_core::protocol::ws::ClientFrame;
use chatter_core::{ChatId, MessageId, SessionId, UserId};
use eyeball::SharedObservable;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Everything a client shares with its clones and its sync task.
#[derive(Debug)]
pub(crate) struct ClientInner {
    pub(crate) api: Api,
    pub(crate) ws: Arc<dyn WebSocketConnector>,
    pub(super) session: RwLock<Option<Session>>,
    pub(super) session_store: Arc<dyn SessionStore>,
    pub(crate) queue_store: Arc<dyn SendQueueStore>,
    pub(super) device_name: Option<String>,
    /// The session lives in the server's cookie: no bearer token is kept or sent.
    pub(super) cookie_session: bool,
    pub(super) state: StateCell,
    pub(super) sync_state: SharedObservable<SyncState>,
    /// Bumped by every start of the sync service: only the newest task reports state.
    pub(super) sync_generation: std::sync::atomic::AtomicU64,
    pub(super) sync: Mutex<Option<SyncHandle>>,
    pub(super) persisting: tokio::sync::Mutex<()>,
    /// The running calls, for the call frames the sync connection receives.
    pub(crate) calls: CallRouter,
    /// Where background tasks run.
    pub(crate) spawner: platform::Spawner,
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

    /// The session a login answered; with the cookie, its token is dropped at once.
    pub(super) fn session_from(&self, user_id: UserId, session_id: SessionId, token: String) -> Session {
        let token = if self.cookie_session { String::new() } else { token };
        Session { user_id, session_id, token }
    }

    pub(super) async fn start_session(&self, session: Session) -> Result<()> {
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

    pub(super) fn nudge_queue(&self) {
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
        // The server's own rule: a send it would refuse is never queued.
        let text = chatter_core::value::MessageText::parse(&text).map_err(SdkError::from_core)?.into_string();
        let client_id = platform::client_id();
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

    pub(super) fn stop_sync(&self) {
        if let Some(sync) = self.sync.lock().unwrap_or_else(|e| e.into_inner()).take() {
            sync.send(SyncCommand::Stop);
        }
    }
}
