//! One WebSocket connection of the sync service, from `auth` to its end.

use super::handle::{SyncCommand, SyncState};
use crate::call_router::CallFrame;
use crate::client::inner::ClientInner;
use crate::error::SdkError;
use crate::platform;
use crate::send_queue::QueuedSend;
use crate::state::Applied;
use crate::transport::{WebSocket, WsEvent};
use chatter_core::model::ChatEventKind;
use chatter_core::protocol::ChatView;
use chatter_core::protocol::ws::{ClientFrame, EventFrame, ServerFrame, ServerMessage};
use chatter_core::{ChatId, UserId};
use futures::FutureExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Asked to stop.
    Stopped,
    /// The session is over.
    Unauthenticated,
    /// The connection failed or dropped; `caught_up` if it had reached `Connected`.
    Lost {
        /// Whether it had caught up before it dropped.
        caught_up: bool,
    },
}

/// How long connecting, or the server's `ready`, may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a sent message may wait for its answer before the connection is presumed dead.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long typing shows after a notice.
const TYPING_SHOWS: Duration = Duration::from_secs(6);
/// Chats per `resume` frame (well under the server's 64 KiB frame limit).
const RESUME_CHUNK: usize = 500;
/// The page read into an open timeline after `chat.reset`.
const RESET_PAGE: u32 = 50;

/// Microseconds on the wall clock, for timeouts inside a connection.
fn now_micros() -> i64 {
    platform::now().as_micros()
}

fn micros(d: Duration) -> i64 {
    d.as_micros() as i64
}

fn ws_url(base: &str) -> String {
    let rest = base.strip_prefix("https://").map(|r| format!("wss://{r}"));
    let url = rest.unwrap_or_else(|| format!("ws://{}", base.strip_prefix("http://").unwrap_or(base)));
    format!("{url}/v1/ws")
}

/// Runs `future` for at most `limit`.
async fn timeout<T>(limit: Duration, future: impl std::future::Future<Output = T>) -> Option<T> {
    let sleep = platform::sleep(limit);
    futures::pin_mut!(future, sleep);
    match futures::future::select(future, sleep).await {
        futures::future::Either::Left((value, _)) => Some(value),
        futures::future::Either::Right(_) => None,
    }
}

fn to_json(frame: &ClientFrame) -> String {
    serde_json::to_string(frame).unwrap_or_default()
}

struct Connection<'a> {
    inner: &'a Arc<ClientInner>,
    socket: Box<dyn WebSocket>,
    me: UserId,
    /// The queued send on its way, and when it went.
    in_flight: Option<(QueuedSend, i64)>,
    /// No send before this (after a retryable refusal).
    retry_at: i64,
    retries: u32,
    /// `resume` frames not yet answered by `resumed`.
    resumes_pending: usize,
    heartbeat: Duration,
    last_heard: i64,
    last_ping: i64,
}

/// What woke the connection's loop.
enum Wake {
    Event(WsEvent),
    Command(Option<SyncCommand>),
    Tick,
}

/// Connects, catches up, then relays until the connection ends.
pub(super) async fn run(
    inner: &Arc<ClientInner>,
    generation: u64,
    commands: &mut mpsc::UnboundedReceiver<SyncCommand>,
) -> End {
    let Some(token) = inner.api.token() else { return End::Unauthenticated };
    let Ok(me) = inner.me() else { return End::Unauthenticated };
    let lost = End::Lost { caught_up: false };
    let socket = match timeout(OPEN_TIMEOUT, inner.ws.connect(&ws_url(inner.api.base()))).await {
        Some(Ok(socket)) => socket,
        Some(Err(e)) => {
            tracing::debug!(error = %e, "WebSocket did not open");
            return lost;
        }
        None => return lost,
    };
    let mut conn = Connection {
        inner,
        socket,
        me,
        in_flight: None,
        retry_at: 0,
        retries: 0,
        resumes_pending: 0,
        heartbeat: Duration::from_secs(25),
        last_heard: now_micros(),
        last_ping: now_micros(),
    };
    // With a cookie session the upgrade itself was authenticated: `ready` comes unasked.
    if !token.is_empty() && conn.socket.send(to_json(&ClientFrame::Auth { token })).await.is_err() {
        return lost;
    }
    if let Err(end) = conn.wait_ready().await {
        return end;
    }
    // Resume in frames of RESUME_CHUNK chats (a frame may carry 64 KiB); the server
    // answers each with `resumed` after its replay.
    let positions: Vec<_> = inner.state().positions().into_iter().collect();
    let chunks: Vec<_> = positions.chunks(RESUME_CHUNK).map(|c| c.iter().cloned().collect()).collect();
    let chunks = if chunks.is_empty() { vec![Default::default()] } else { chunks };
    conn.resumes_pending = chunks.len();
    for chats in chunks {
        if conn.socket.send(to_json(&ClientFrame::Resume { chats })).await.is_err() {
            return lost;
        }
    }
    while conn.resumes_pending > 0 {
        if let Err(end) = conn.turn(commands, false).await {
            return end;
        }
    }
    if let Err(end) = conn.read_chat_list().await {
        return end;
    }
    inner.set_sync_state(generation, SyncState::Connected);
    inner.calls.reconnected();
    recheck_running_calls(inner);
    loop {
        if let Err(end) = conn.turn(commands, true).await {
            return match end {
                End::Lost { .. } => End::Lost { caught_up: true },
                other => other,
            };
        }
    }
}

/// Reads again the calls the client believes run: a `call.ended` sent while the socket
/// was away is lost, and an app must not ring for a call that is over.
fn recheck_running_calls(inner: &Arc<ClientInner>) {
    let known = inner.state().awareness.calls().get();
    if known.is_empty() {
        return;
    }
    let checking = inner.clone();
    inner.spawner.spawn(async move {
        for (chat_id, call_id) in known {
            match checking.api.call_info(&chat_id).await {
                Ok(info) if info.call_id == call_id => {}
                Ok(info) => {
                    let awareness = &checking.state().awareness;
                    awareness.call_ended(&chat_id, &call_id);
                    awareness.call_started(&chat_id, &info.call_id);
                }
                Err(SdkError::NotFound(_)) => checking.state().awareness.call_ended(&chat_id, &call_id),
                Err(e) => tracing::debug!(error = %e, "running call not read again"),
            }
        }
    });
}

impl Connection<'_> {
    async fn wait_ready(&mut self) -> Result<(), End> {
        let deadline = now_micros() + micros(OPEN_TIMEOUT);
        loop {
            let left = Duration::from_micros((deadline - now_micros()).max(0) as u64);
            match timeout(left, self.socket.receive()).await {
                Some(WsEvent::Text(text)) => {
                    if let Ok(ServerFrame::Other(ServerMessage::Ready { heartbeat_ms, .. })) =
                        serde_json::from_str(&text)
                    {
                        self.heartbeat = Duration::from_millis(heartbeat_ms.max(1000));
                        self.inner.state().awareness.reconnected();
                        return Ok(());
                    }
                }
                Some(WsEvent::Closed { code, .. }) => return Err(closed(code)),
                None => return Err(End::Lost { caught_up: false }),
            }
        }
    }

    /// One turn of the loop: send the next queued message if it may go, then handle one
    /// event, command or tick.
    async fn turn(&mut self, commands: &mut mpsc::UnboundedReceiver<SyncCommand>, live: bool) -> Result<(), End> {
        if live {
            self.pump_queue().await?;
        }
        let wake = {
            let receive = self.socket.receive().fuse();
            let command = commands.recv().fuse();
            let tick = platform::sleep(Duration::from_secs(1)).fuse();
            futures::pin_mut!(receive, command, tick);
            futures::select_biased! {
                c = command => Wake::Command(c),
                e = receive => Wake::Event(e),
                () = tick => Wake::Tick,
            }
        };
        match wake {
            Wake::Command(None | Some(SyncCommand::Stop)) => {
                self.socket.close().await;
                Err(End::Stopped)
            }
            Wake::Command(Some(SyncCommand::Frame(frame))) => self.send(&frame).await,
            Wake::Command(Some(SyncCommand::QueueChanged)) => Ok(()),
            Wake::Event(WsEvent::Closed { code, .. }) => Err(closed(code)),
            Wake::Event(WsEvent::Text(text)) => {
                self.last_heard = now_micros();
                self.frame(&text).await
            }
            Wake::Tick => self.tick().await,
        }
    }

    async fn send(&mut self, frame: &ClientFrame) -> Result<(), End> {
        self.socket.send(to_json(frame)).await.map_err(|_| End::Lost { caught_up: false })
    }

    /// Pings when the line is quiet and gives up on a server that stopped answering or a
    /// send that got no answer.
    async fn tick(&mut self) -> Result<(), End> {
        let now = now_micros();
        if now - self.last_heard > 2 * micros(self.heartbeat) {
            tracing::debug!("the server stopped answering");
            return Err(End::Lost { caught_up: false });
        }
        if self.in_flight.as_ref().is_some_and(|(_, at)| now - at > micros(SEND_TIMEOUT)) {
            return Err(End::Lost { caught_up: false });
        }
        if now - self.last_ping > micros(self.heartbeat) / 2 {
            self.last_ping = now;
            self.send(&ClientFrame::Ping {}).await?;
        }
        Ok(())
    }

    /// Sends the oldest queued message when none is on its way.
    async fn pump_queue(&mut self) -> Result<(), End> {
        if self.in_flight.is_some() || now_micros() < self.retry_at {
            return Ok(());
        }
        let Some(head) = self.inner.state().queue_head() else { return Ok(()) };
        let frame = ClientFrame::Send {
            reference: head.client_id.clone(),
            chat_id: head.chat_id.clone(),
            text: head.text.clone(),
            client_id: head.client_id.clone(),
            reply_to: head.reply_to.as_ref().map(|m| m.as_str().to_owned()),
        };
        self.in_flight = Some((head, now_micros()));
        self.send(&frame).await
    }

    async fn frame(&mut self, text: &str) -> Result<(), End> {
        let frame: ServerFrame = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "unreadable frame ignored");
                return Ok(());
            }
        };
        match frame {
            ServerFrame::Event(EventFrame { event, reference }) => {
                let chat_id = event.chat_id.clone();
                let mine = match &event.kind {
                    ChatEventKind::MessageCreated { message } => {
                        self.inner.state().typing_stopped(&chat_id, &message.sender_id);
                        message.client_id.clone().filter(|_| message.sender_id == self.me)
                    }
                    _ => None,
                };
                let applied = self.inner.state().apply_event(event);
                if applied == Applied::Gap {
                    self.reset_chat(&chat_id).await?;
                }
                let answered = self.in_flight.as_ref().is_some_and(|(q, _)| {
                    reference.as_deref() == Some(&q.client_id) || mine.as_deref() == Some(&q.client_id)
                });
                if answered {
                    if let Some((sent, _)) = self.in_flight.take() {
                        // Stored (perhaps before: the answer may be a repeat): it leaves
                        // the queue, and its echo goes even if the event was not applied.
                        let mut state = self.inner.state();
                        state.dequeue(&sent.client_id);
                        state.remove_echo(&sent.chat_id, &sent.client_id);
                    }
                    self.retries = 0;
                }
                if answered || mine.is_some() {
                    self.inner.persist_queue_or_log().await;
                }
                Ok(())
            }
            ServerFrame::Other(message) => self.message(message).await,
        }
    }

    async fn message(&mut self, message: ServerMessage) -> Result<(), End> {
        match message {
            ServerMessage::Resumed {} => self.resumes_pending = self.resumes_pending.saturating_sub(1),
            ServerMessage::ChatAdded { chat } => self.add_chat(&chat.id).await?,
            ServerMessage::ChatRemoved { chat_id } => self.inner.state().forget_chat(&chat_id),
            ServerMessage::ChatReset { chat_id, .. } => self.reset_chat(&chat_id).await?,
            ServerMessage::Typing { chat_id, user_id } if user_id != self.me => {
                let generation = self.inner.state().typing_started(&chat_id, &user_id);
                let inner = self.inner.clone();
                self.inner.spawner.spawn(async move {
                    platform::sleep(TYPING_SHOWS).await;
                    inner.state().typing_expired(&chat_id, &user_id, generation);
                });
            }
            ServerMessage::Read { chat_id, user_id, seq } => {
                let mut state = self.inner.state();
                if user_id == self.me {
                    state.read_locally(&chat_id, seq);
                }
                state.awareness.receipt(&chat_id, &user_id, seq);
            }
            ServerMessage::Presence { user_id, online } => self.inner.state().awareness.presence(&user_id, online),
            ServerMessage::CallStarted { chat_id, call_id } => {
                self.inner.state().awareness.call_started(&chat_id, &call_id);
            }
            ServerMessage::CallSignal(signal) => {
                self.inner.calls.route(&signal.call_id().clone(), CallFrame::Signal(signal));
            }
            ServerMessage::Call(event) => self.inner.calls.route(&event.call_id().clone(), CallFrame::Event(event)),
            ServerMessage::CallEnded { chat_id, call_id } => {
                self.inner.state().awareness.call_ended(&chat_id, &call_id);
                self.inner.calls.route(&call_id, CallFrame::Ended);
            }
            ServerMessage::Error { code, message, field, reference } => {
                let Some((send, _)) = self.in_flight.take_if(|(q, _)| reference.as_deref() == Some(&q.client_id))
                else {
                    tracing::debug!(%code, %message, "error frame from the server");
                    return Ok(());
                };
                let error = SdkError::from_api(0, &code, message, field, None);
                if error.is_retryable() {
                    self.retries += 1;
                    let wait = super::backoff::delay(self.retries, platform::random_u64());
                    self.retry_at = now_micros() + micros(error.retry_after().unwrap_or(wait));
                } else {
                    self.inner.state().send_failed(&send, error);
                    self.inner.persist_queue_or_log().await;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Learns a chat the user was added to (its summary from the server).
    async fn add_chat(&mut self, chat_id: &ChatId) -> Result<(), End> {
        match self.inner.api.chat(chat_id).await {
            Ok(ChatView::Member(summary)) => {
                let applied = self.inner.state().learn_chat(*summary);
                if applied.iter().any(|a| matches!(a, Applied::Gap | Applied::Reload)) {
                    self.reset_chat(chat_id).await?;
                }
                Ok(())
            }
            // Removed again meanwhile: `chat.removed` follows or already came.
            Ok(ChatView::Visitor(_)) | Err(SdkError::NotFound(_) | SdkError::Forbidden(_)) => Ok(()),
            Err(e) => Err(api_end(e)),
        }
    }

    /// Re-reads a chat whose events cannot be replayed: its summary, and the newest
    /// page of an open timeline.
    async fn reset_chat(&mut self, chat_id: &ChatId) -> Result<(), End> {
        let summary = match self.inner.api.chat(chat_id).await {
            Ok(ChatView::Member(summary)) => *summary,
            Ok(ChatView::Visitor(_)) | Err(SdkError::NotFound(_) | SdkError::Forbidden(_)) => {
                self.inner.state().forget_chat(chat_id);
                return Ok(());
            }
            Err(e) => return Err(api_end(e)),
        };
        let open = self.inner.state().has_timeline(chat_id);
        let page = if open {
            self.inner.api.messages(chat_id, crate::api::HistoryPage::Latest, RESET_PAGE).await.map_err(api_end)?
        } else {
            Vec::new()
        };
        self.inner.state().reset_chat(summary, page, RESET_PAGE as usize);
        Ok(())
    }

    /// Reads `GET /v1/chats` after catching up: chats added while away join the list
    /// (their events that came live meanwhile are applied on top), chats gone leave it.
    async fn read_chat_list(&mut self) -> Result<(), End> {
        let mut seen = HashSet::new();
        let mut cursor = None;
        loop {
            let page = self.inner.api.chats(cursor.as_deref()).await.map_err(api_end)?;
            for summary in page.chats {
                seen.insert(summary.chat.id.clone());
                let id = summary.chat.id.clone();
                let applied = self.inner.state().learn_chat(summary);
                if applied.iter().any(|a| matches!(a, Applied::Gap | Applied::Reload)) {
                    self.reset_chat(&id).await?;
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        // A chat missing from the listing may have moved between its pages (new activity
        // reorders it) or been learned meanwhile: ask about it before forgetting it.
        let unlisted: Vec<ChatId> = self.inner.state().chat_ids().into_iter().filter(|id| !seen.contains(id)).collect();
        for id in unlisted {
            match self.inner.api.chat(&id).await {
                Ok(ChatView::Member(_)) => {}
                Ok(ChatView::Visitor(_)) | Err(SdkError::NotFound(_) | SdkError::Forbidden(_)) => {
                    self.inner.state().forget_chat(&id);
                }
                Err(e) => return Err(api_end(e)),
            }
        }
        Ok(())
    }
}

/// How a failed API call ends the connection.
fn api_end(e: SdkError) -> End {
    match e {
        SdkError::Unauthenticated => End::Unauthenticated,
        _ => End::Lost { caught_up: false },
    }
}

/// How a close code ends the connection: 4001 means the session is over; anything
/// else (4008 slow consumer, 1001 restart, a dropped line) means reconnect and resume.
fn closed(code: Option<u16>) -> End {
    match code {
        Some(4001) => End::Unauthenticated,
        _ => End::Lost { caught_up: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_follow_the_server_scheme() {
        assert_eq!(ws_url("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/v1/ws");
        assert_eq!(ws_url("https://chat.example.com"), "wss://chat.example.com/v1/ws");
        assert_eq!(closed(Some(4001)), End::Unauthenticated);
        assert_eq!(closed(Some(4008)), End::Lost { caught_up: false });
        assert_eq!(closed(None), End::Lost { caught_up: false });
    }
}
