//! One WebSocket: authentication, subscription, `ready`, then two tasks. The reader
//! decodes messages into commands; the writer owns the socket's write half and its
//! sequencer: it runs commands in order, sends queued events in event_seq order
//! (filling gaps from the store), writes in batches (buffer many frames, one write),
//! pings, and closes.

use super::close::{CloseCode, CloseSignal};
use super::feed::{Behind, Subscription};
use super::frames;
use super::hub::{Delivered, Outbound, Registration};
use super::outbox::Outbox;
use super::sequencer::{Decision, Sequencer, accept_next};
use super::socket::{SocketIn, SocketOut};
use super::wire::{Incoming, WireError};
use crate::app::AppState;
use crate::broker::Broadcast;
use crate::sfu::SfuError;
use bytes::Bytes;
use chatter_core::model::{ChatEvent, ChatEventKind};
use chatter_core::protocol::ws::{ClientFrame, ServerMessage};
use chatter_core::service::{Caller, SendInput};
use chatter_core::store::Created;
use chatter_core::{ChatId, MessageId, UserId};
use std::collections::{BTreeMap, VecDeque};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long an unauthenticated socket may take to send its `auth` frame.
const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one write may block on a peer that does not read before we give up on it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server waits for a client to answer its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// How long a new socket's queued events wait for its first command (see `run`).
const HOLD_LIVE: Duration = Duration::from_millis(500);
/// A resume replays at most this many events per chat; more gives `chat.reset`.
const RESUME_LIMIT: usize = 1000;

/// How the socket arrived: authenticated at the upgrade, or to authenticate by frame.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// The upgrade carried a valid token or cookie.
    Authenticated(Caller),
    /// No credentials: the first frame must be `auth` within 5 s.
    Pending,
}

/// A command from the reader to the writer.
#[derive(Debug)]
enum Command {
    Client(ClientFrame),
    /// A frame to send as it is (errors about bad input).
    Reply(Bytes),
    /// Answer a ping.
    Pong(Vec<u8>),
}

/// Serves one upgraded socket until it closes.
pub async fn serve_socket(state: AppState, mut stream: SocketIn, mut sink: SocketOut, credentials: Credentials) {
    let caller = match credentials {
        Credentials::Authenticated(c) => c,
        Credentials::Pending => {
            let Ok(_place) = state.hub.reserve_pending() else {
                return close_now(&mut stream, &mut sink, CloseCode::TooManyConnections).await;
            };
            match authenticate_by_frame(&state, &mut stream).await {
                Some(c) => c,
                None => return close_now(&mut stream, &mut sink, CloseCode::Unauthenticated).await,
            }
        }
    };
    let registration = match state.hub.register(&caller.user.id, &caller.session_id) {
        Ok(r) => r,
        Err(_) => return close_now(&mut stream, &mut sink, CloseCode::TooManyConnections).await,
    };
    // A revocation between authenticating and registering found no socket to close:
    // check the session once more now that revocations reach this one.
    if !session_alive(&state, &caller).await {
        state.hub.unregister(registration.id);
        return close_now(&mut stream, &mut sink, CloseCode::Unauthenticated).await;
    }
    let id = registration.id;
    if registration.first_of_user {
        announce_presence(&state, caller.user.id.clone());
    }
    let mut writer = Writer {
        state: state.clone(),
        caller: caller.clone(),
        sink,
        sequencer: Sequencer::default(),
        close: registration.close.clone(),
        unanswered_pings: Arc::new(AtomicU32::new(0)),
    };
    if writer.start(id).await.is_ok() {
        let (commands_tx, commands_rx) = mpsc::channel(64);
        let reader =
            tokio::spawn(read_loop(stream, commands_tx, writer.close.clone(), writer.unanswered_pings.clone()));
        writer.run(registration, commands_rx).await;
        // The close frame is out: give the client a moment to answer it before the TCP
        // connection goes, so it sees our code rather than a reset.
        if tokio::time::timeout(CLOSE_GRACE, reader).await.is_err() {
            tracing::debug!("no close answer from the client");
        }
    }
    if state.hub.unregister(id) {
        announce_presence(&state, caller.user.id.clone());
    }
}

async fn session_alive(state: &AppState, caller: &Caller) -> bool {
    match state.service.store().sessions_of_user(caller.user_id()).await {
        Ok(sessions) => sessions.iter().any(|s| s.id == caller.session_id),
        // The store will answer the socket's first command the same way; let it run.
        Err(_) => true,
    }
}

async fn authenticate_by_frame(state: &AppState, stream: &mut SocketIn) -> Option<Caller> {
    let deadline = tokio::time::Instant::now() + AUTH_TIMEOUT;
    let text = loop {
        match tokio::time::timeout_at(deadline, stream.next()).await.ok()??.ok()? {
            Incoming::Text(text) => break text,
            // Control frames may come first; they do not authenticate.
            Incoming::Ping(_) | Incoming::Pong => continue,
            _ => return None,
        }
    };
    match serde_json::from_str::<ClientFrame>(&text) {
        Ok(ClientFrame::Auth { token }) => state.service.authenticate(&token).await.ok(),
        _ => None,
    }
}

async fn close_now(stream: &mut SocketIn, sink: &mut SocketOut, code: CloseCode) {
    sink.close(code as u16, code.reason());
    let _ = tokio::time::timeout(CLOSE_GRACE, sink.flush()).await;
    // Read until the client answers the close (or gives up), so it sees the code.
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(m)) = stream.next().await {
            if matches!(m, Incoming::Close(_)) {
                break;
            }
        }
    })
    .await;
    sink.shutdown().await;
}

fn announce_presence(state: &AppState, user_id: UserId) {
    let broker = state.broker.clone();
    tokio::spawn(async move { broker.presence_changed(user_id).await });
}

/// What the reader does with one incoming frame.
enum Step {
    Run(Command),
    Ignore,
    Stop,
}

fn step(next: Result<Incoming, WireError>, close: &CloseSignal) -> Step {
    match next {
        Ok(Incoming::Text(text)) => Step::Run(match serde_json::from_str::<ClientFrame>(&text) {
            Ok(ClientFrame::Auth { .. }) => {
                Command::Reply(frames::error("invalid_request", "already authenticated", None))
            }
            Ok(frame) => Command::Client(frame),
            Err(e) => Command::Reply(frames::error("invalid_request", bad_frame_message(&text, &e), None)),
        }),
        Ok(Incoming::Binary) => Step::Run(Command::Reply(frames::error(
            "invalid_request",
            "binary frames are not supported: send JSON text",
            None,
        ))),
        Ok(Incoming::Ping(payload)) => Step::Run(Command::Pong(payload)),
        Ok(Incoming::Pong) => Step::Ignore,
        Ok(Incoming::Close(_)) => {
            close.close(CloseCode::Normal);
            Step::Stop
        }
        Err(e) => {
            close.close(CloseCode::from_wire(e));
            Step::Stop
        }
    }
}

async fn read_loop(
    mut stream: SocketIn,
    commands: mpsc::Sender<Command>,
    close: Arc<CloseSignal>,
    unanswered_pings: Arc<AtomicU32>,
) {
    while let Some(next) = stream.next().await {
        unanswered_pings.store(0, Ordering::Relaxed);
        match step(next, &close) {
            Step::Run(command) => {
                if commands.send(command).await.is_err() {
                    break;
                }
            }
            Step::Ignore => {}
            Step::Stop => break,
        }
    }
    // The peer is gone: let the writer stop too (a no-op if it already chose a code).
    close.close(CloseCode::GoingAway);
}

fn bad_frame_message(text: &str, e: &serde_json::Error) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(_) => format!("not valid JSON: {e}"),
        Ok(v) if v.get("type").and_then(|t| t.as_str()).is_none() => "a frame needs a string \"type\"".to_owned(),
        Ok(v) => format!("bad \"{}\" frame: {e}", v["type"].as_str().unwrap_or_default()),
    }
}

/// The writing half of a socket.
struct Writer {
    state: AppState,
    caller: Caller,
    sink: SocketOut,
    sequencer: Sequencer,
    close: Arc<CloseSignal>,
    unanswered_pings: Arc<AtomicU32>,
}

/// The socket cannot go on (write failed, timed out, or the store failed at start).
struct Gone;

impl Writer {
    /// Subscribes to the user's chats, then says `ready`.
    async fn start(&mut self, id: u64) -> Result<(), Gone> {
        let store = self.state.service.store().clone();
        let user = &self.caller.user.id.clone();
        let chats = store.chat_heads(user).await.map_err(|_| Gone)?;
        let subscribed = self.state.hub.subscribe(id, chats.into_iter().map(|(c, _)| c));
        // Heads read after subscribing: every later event reaches the queue.
        let heads: BTreeMap<ChatId, u64> = store.chat_heads(user).await.map_err(|_| Gone)?.into_iter().collect();
        for chat in subscribed {
            if let Some(&head) = heads.get(&chat) {
                self.sequencer.follow(chat, head);
            }
        }
        let ready = ServerMessage::Ready {
            user_id: user.clone(),
            session_id: self.caller.session_id.clone(),
            heartbeat_ms: u64::try_from(self.state.realtime.heartbeat.as_millis()).unwrap_or(u64::MAX),
        };
        self.feed(frames::message(&ready));
        self.flush().await?;
        self.online_now(user).await;
        self.flush().await
    }

    /// Tells a new socket who of the people whose presence it hears is online now (the
    /// presence frames that follow are changes). Changes after this read are queued for
    /// the socket already, so they arrive after it: the client ends up right.
    async fn online_now(&mut self, user: &UserId) {
        let Some(audience) = crate::broker::presence::audience(&**self.state.service.store(), user).await else {
            return;
        };
        for user_id in self.state.broker.online_among(&audience).await {
            self.feed(frames::message(&ServerMessage::Presence { user_id, online: true }));
        }
    }

    async fn run(&mut self, registration: Registration, mut commands: mpsc::Receiver<Command>) {
        let period = self.state.realtime.heartbeat.max(Duration::from_millis(10));
        // The first ping comes after half to one period, spread by the socket's id, so
        // sockets that connected together do not all ping in the same instant.
        let phase = period.mul_f64(0.5 + (registration.id.wrapping_mul(2_654_435_761) % 1000) as f64 / 2000.0);
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + phase, period);
        // After a stall, ticks resume at the period instead of firing back to back (which
        // would count pings the client never had time to answer).
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let close = self.close.clone();
        // Made once and kept: re-creating them every turn would re-register wakers.
        let closed = close.wait();
        tokio::pin!(closed);
        let rest = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(rest);
        let mut resting = false;
        // Queued events wait for the client's first command (typically `resume`) or
        // HOLD_LIVE, so a resume's replay goes out before any live event of its chats.
        let hold = tokio::time::sleep(HOLD_LIVE);
        tokio::pin!(hold);
        let mut holding = true;
        let outbox = registration.outbox.clone();
        let mut taken = VecDeque::new();
        let result: Result<(), Gone> = async {
            loop {
                tokio::select! {
                    biased;
                    code = &mut closed => {
                        self.send_close(code).await;
                        return Ok(());
                    }
                    _ = heartbeat.tick() => {
                        if self.unanswered_pings.fetch_add(1, Ordering::Relaxed) >= 2 {
                            close.close(CloseCode::Timeout);
                            continue;
                        }
                        self.sink.ping();
                        // A resting socket sends it with its next batch, in at most one rest.
                        if !resting {
                            self.flush().await?;
                        }
                    }
                    () = &mut hold, if holding => holding = false,
                    command = commands.recv() => {
                        let Some(command) = command else { return Ok(()) };
                        // Only the client's own commands end the hold, not pongs or
                        // answers to bad frames.
                        holding &= !matches!(command, Command::Client(_));
                        self.command(command).await?;
                        self.flush().await?;
                    }
                    // Coalescing: after a flush the queue rests for `ws_flush_ms`, so a busy
                    // socket gets one write (and one wake-up) per rest however many events
                    // arrive; an idle socket's first event still goes out at once.
                    () = &mut rest, if resting => {
                        resting = false;
                        if self.drain(&outbox, &mut taken).await? || self.sink.has_pending() {
                            self.flush().await?;
                            resting = self.rest(rest.as_mut());
                        }
                    }
                    () = outbox.ready(), if !resting && !holding => {
                        if self.drain(&outbox, &mut taken).await? {
                            self.flush().await?;
                            resting = self.rest(rest.as_mut());
                        }
                    }
                }
            }
        }
        .await;
        if result.is_err() {
            tracing::debug!("socket write failed or timed out");
        }
    }

    /// Starts the queue's rest after a flush; answers whether it rests at all.
    fn rest(&self, rest: std::pin::Pin<&mut tokio::time::Sleep>) -> bool {
        let gap = self.state.realtime.flush;
        if gap.is_zero() {
            return false;
        }
        rest.reset(tokio::time::Instant::now() + gap);
        true
    }

    /// Feeds everything queued; answers whether anything was.
    async fn drain(&mut self, outbox: &Outbox, taken: &mut VecDeque<Outbound>) -> Result<bool, Gone> {
        if !outbox.take_all(taken) {
            return Ok(false);
        }
        while let Some(item) = taken.pop_front() {
            self.outbound(item).await?;
        }
        Ok(true)
    }

    async fn send_close(&mut self, code: CloseCode) {
        self.sink.close(code as u16, code.reason());
        let _ = tokio::time::timeout(WRITE_TIMEOUT, self.sink.flush()).await;
        self.sink.shutdown().await;
    }

    /// Buffers a text frame (written by the next flush).
    fn feed(&mut self, frame: impl AsRef<[u8]>) {
        self.sink.text(frame.as_ref());
    }

    async fn flush(&mut self) -> Result<(), Gone> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.sink.flush()).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Gone),
        }
    }

    async fn outbound(&mut self, item: Outbound) -> Result<(), Gone> {
        match item {
            Outbound::News(sub) => self.read_feed(&sub).await,
            Outbound::Frame(frame) => {
                self.feed(frame);
                Ok(())
            }
            Outbound::Added { chat_id, last_event_seq, frame } => self.added(chat_id, last_event_seq, frame).await,
            Outbound::Head { chat_id, event_seq } => match self.sequencer.position(&chat_id) {
                Some(last) if last < event_seq => self.fill_gap(&chat_id, last, event_seq).await,
                _ => Ok(()),
            },
            Outbound::Removed { chat_id, unread, frame } => {
                for d in &unread {
                    if let Decision::Gap { after } = self.live_event(d) {
                        self.after_gap(d, after).await?;
                    }
                }
                self.sequencer.unfollow(&chat_id);
                self.feed(frame);
                Ok(())
            }
        }
    }

    /// Sends a chat's events from its feed, from where this socket stopped reading.
    async fn read_feed(&mut self, sub: &Subscription) -> Result<(), Gone> {
        enum Stop {
            Gap(Arc<Delivered>, u64),
            Left,
        }
        loop {
            // One sequencer lookup for the whole run of the chat's events.
            let (mut last, sink, me) = (self.sequencer.last_mut(sub.chat_id()), &mut self.sink, &self.caller.user.id);
            let stop = sub.read(|d| {
                // Not followed (any more): skipped.
                let Some(last) = last.as_deref_mut() else { return ControlFlow::Continue(()) };
                match accept_next(last, d.event_seq) {
                    Decision::Send => {
                        sink.text(&d.frame);
                        if d.leaving.as_ref() == Some(me) {
                            return ControlFlow::Break(Stop::Left);
                        }
                        ControlFlow::Continue(())
                    }
                    Decision::Skip => ControlFlow::Continue(()),
                    Decision::Gap { after } => ControlFlow::Break(Stop::Gap(d.clone(), after)),
                }
            });
            match stop {
                Ok(None) => return Ok(()),
                Ok(Some(Stop::Left)) => self.sequencer.unfollow(sub.chat_id()),
                Ok(Some(Stop::Gap(d, after))) => self.after_gap(&d, after).await?,
                Err(Behind) => {
                    // The hub has already asked this socket to close as a slow consumer.
                    self.close.close(CloseCode::SlowConsumer);
                    return Ok(());
                }
            }
        }
    }

    /// Buffers a live event if it is the next of its chat; answers the sequencer's
    /// decision (a gap is for the caller to fill).
    fn live_event(&mut self, d: &Delivered) -> Decision {
        let decision = self.sequencer.accept(&d.chat_id, d.event_seq);
        if decision == Decision::Send {
            self.feed(&d.frame);
            self.left_if_me(&d.chat_id, d.leaving.as_ref());
        }
        decision
    }

    /// Fills the gap before a live event from the store, then sends the event.
    async fn after_gap(&mut self, d: &Delivered, after: u64) -> Result<(), Gone> {
        self.fill_gap(&d.chat_id, after, d.event_seq - 1).await?;
        // The gap may have held this user's own leaving.
        self.live_event(d);
        Ok(())
    }

    /// Sends the stored events of `chat` after `after` up to `upto`. If the store cannot
    /// give exactly those, the socket closes (1001) so the client resumes: a later event
    /// is never sent over a hole.
    async fn fill_gap(&mut self, chat: &ChatId, after: u64, upto: u64) -> Result<(), Gone> {
        if upto <= after {
            return Ok(());
        }
        let wanted = (upto - after) as usize;
        if wanted > RESUME_LIMIT {
            // Too much to replay (a long broker outage): the client re-reads the chat.
            self.sequencer.follow(chat.clone(), upto);
            self.feed(frames::message(&ServerMessage::ChatReset { chat_id: chat.clone(), last_event_seq: upto }));
            return Ok(());
        }
        let events = match self.state.service.store().chat_events(chat, after, wanted).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "gap fill failed");
                self.close.close(CloseCode::GoingAway);
                return Err(Gone);
            }
        };
        let contiguous = events.len() == wanted && events.iter().zip(after + 1..).all(|(e, seq)| e.event_seq == seq);
        if !contiguous {
            self.close.close(CloseCode::GoingAway);
            return Err(Gone);
        }
        for e in &events {
            // The user's own leaving ends what this socket may see of the chat.
            if !self.sequencer.follows(chat) {
                break;
            }
            self.send_stored(e).await?;
        }
        Ok(())
    }

    /// The user joined `chat` (snapshot at `last_event_seq`): follow it from there and
    /// send what happened since the snapshot. A socket that already follows the chat
    /// keeps its position; a late `chat.added` for a chat the user has left meanwhile
    /// is dropped.
    async fn added(&mut self, chat: ChatId, last_event_seq: u64, frame: Bytes) -> Result<(), Gone> {
        if self.sequencer.follows(&chat) {
            self.feed(frame);
            return Ok(());
        }
        let store = self.state.service.store().clone();
        match store.member(&chat, &self.caller.user.id).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(_) => {
                self.close.close(CloseCode::GoingAway);
                return Err(Gone);
            }
        }
        self.sequencer.follow(chat.clone(), last_event_seq);
        self.feed(frame);
        let since = match store.chat_events(&chat, last_event_seq, RESUME_LIMIT).await {
            Ok(events) => events,
            Err(_) => {
                self.close.close(CloseCode::GoingAway);
                return Err(Gone);
            }
        };
        for e in &since {
            if self.sequencer.accept(&chat, e.event_seq) != Decision::Send {
                break;
            }
            self.feed(frames::event(e, None));
            self.left_if_me(&chat, leaving_user(e));
        }
        Ok(())
    }

    /// Sends a stored event and records it; a `member_left` of this user ends following.
    async fn send_stored(&mut self, e: &ChatEvent) -> Result<(), Gone> {
        self.sequencer.sent(&e.chat_id, e.event_seq);
        self.feed(frames::event(e, None));
        self.left_if_me(&e.chat_id, leaving_user(e));
        Ok(())
    }

    /// Stops following `chat` when the event just sent was this user leaving it.
    fn left_if_me(&mut self, chat: &ChatId, leaving: Option<&UserId>) {
        if leaving == Some(&self.caller.user.id) {
            self.sequencer.unfollow(chat);
        }
    }

    /// Sends the answer to this socket's own `send`, after any events before it.
    async fn own_event(&mut self, event: &ChatEvent, reference: &str) -> Result<(), Gone> {
        if let Decision::Gap { after } = self.sequencer.decide(&event.chat_id, event.event_seq) {
            self.fill_gap(&event.chat_id, after, event.event_seq - 1).await?;
        }
        self.sequencer.sent(&event.chat_id, event.event_seq);
        self.feed(frames::event(event, Some(reference)));
        Ok(())
    }

    async fn command(&mut self, command: Command) -> Result<(), Gone> {
        let frame = match command {
            Command::Reply(frame) => {
                self.feed(frame);
                return Ok(());
            }
            Command::Pong(payload) => {
                self.sink.pong(&payload);
                return Ok(());
            }
            Command::Client(frame) => frame,
        };
        let service = self.state.service.clone();
        let caller = self.caller.clone();
        match frame {
            ClientFrame::Send { reference, chat_id, text, client_id, reply_to } => {
                let input = SendInput { text, client_id: Some(client_id), reply_to: reply_to.map(MessageId::new) };
                match service.send_message(&caller, &chat_id, input).await {
                    Ok(Created::New((_, event)) | Created::Existing((_, event))) => {
                        self.own_event(&event, &reference).await
                    }
                    Err(e) => {
                        self.feed(frames::failed(&e, Some(reference)));
                        Ok(())
                    }
                }
            }
            ClientFrame::Typing { chat_id } => match service.check_can_post(&caller, &chat_id).await {
                Ok(()) => {
                    if self.state.hub.allow_typing(&caller.user.id, &chat_id, Instant::now()) {
                        self.state.broker.publish(Broadcast::Typing { chat_id, user_id: caller.user.id.clone() });
                    }
                    Ok(())
                }
                Err(e) => {
                    self.feed(frames::failed(&e, None));
                    Ok(())
                }
            },
            ClientFrame::Read { chat_id, seq } => match service.mark_read(&caller, &chat_id, seq).await {
                Ok(()) => Ok(()),
                Err(e) => {
                    self.feed(frames::failed(&e, None));
                    Ok(())
                }
            },
            ClientFrame::Ping {} => {
                self.feed(frames::message(&ServerMessage::Pong {}));
                Ok(())
            }
            ClientFrame::Resume { chats } => self.resume(chats).await,
            ClientFrame::Auth { .. } => {
                self.feed(frames::error("invalid_request", "already authenticated", None));
                Ok(())
            }
            ClientFrame::CallSignal(signal) => {
                let outcome = self.state.calls.signal(caller.session_id.clone(), signal).await;
                self.call_outcome(outcome);
                Ok(())
            }
            ClientFrame::Call(command) => {
                let outcome = self.state.calls.command(caller.session_id.clone(), command).await;
                self.call_outcome(outcome);
                Ok(())
            }
        }
    }

    /// Tells the client when its call signal or command failed.
    fn call_outcome(&mut self, outcome: Result<(), SfuError>) {
        if let Err(e) = outcome {
            self.feed(frames::failed(&e.into(), None));
        }
    }

    /// Replays, per listed chat, the events after the client's position that this socket
    /// has not sent live (live sending starts at the chat's base), then `resumed`. Live
    /// events wait in the queue meanwhile: no gap, no duplicate.
    async fn resume(&mut self, chats: BTreeMap<ChatId, u64>) -> Result<(), Gone> {
        let store = self.state.service.store().clone();
        for (chat, position) in chats {
            let (Some(base), Some(last)) = (self.sequencer.base(&chat), self.sequencer.position(&chat)) else {
                let gone = ServerMessage::ChatRemoved { chat_id: chat };
                self.feed(frames::message(&gone));
                continue;
            };
            if position >= last {
                // Nothing sent that the client lacks; skip what it already has.
                self.sequencer.sent(&chat, position);
                continue;
            }
            if position >= base {
                continue;
            }
            let missing = (base - position) as usize;
            if missing > RESUME_LIMIT || last > base {
                // Too much to replay, or live events after `base` already went out: a
                // replay now would come after them. The client re-reads the chat instead.
                let head = match store.chat(&chat).await {
                    Ok(Some(c)) => c.last_event_seq,
                    _ => last,
                };
                self.sequencer.follow(chat.clone(), head);
                let reset = ServerMessage::ChatReset { chat_id: chat, last_event_seq: head };
                self.feed(frames::message(&reset));
                continue;
            }
            let events = match store.chat_events(&chat, position, missing).await {
                Ok(events) => events,
                Err(e) => {
                    // The client must not believe it caught up: close so it resumes again.
                    tracing::warn!(error = %e, "resume failed");
                    self.close.close(CloseCode::GoingAway);
                    return Err(Gone);
                }
            };
            for e in events.iter().filter(|e| e.event_seq <= base) {
                self.feed(frames::event(e, None));
            }
            self.sequencer.rebase(&chat, position);
            // One write per chat keeps the buffer small and the queue moving.
            self.flush().await?;
        }
        self.feed(frames::message(&ServerMessage::Resumed {}));
        Ok(())
    }
}

/// The user an event says left the chat, if it is a `member_left`.
fn leaving_user(e: &ChatEvent) -> Option<&UserId> {
    match &e.kind {
        ChatEventKind::MemberLeft { user_id, .. } => Some(user_id),
        _ => None,
    }
}
