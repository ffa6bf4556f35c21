//! The SFU task: it owns the UDP socket and every call and peer connection on this
//! node, and runs requests, packets and timers one at a time (str0m is sans-I/O: the
//! engine gives each connection its input and sends what it outputs).

use super::outbox::Outbox;
use super::peer::{Offered, Peer, PeerKey, PeerMap, PeerSet, TrackIn, media_kind};
use super::speaker::Speakers;
use super::{CallSink, Request, RunningCall, SfuConfig, SfuError, SfuStats, SocketState};
use crate::crypto::RandomIds;
use chatter_core::IdGenerator;
use chatter_core::call::{NewLine, Room, RoomError};
use chatter_core::protocol::ws::{CallCommand, CallEvent, CallSignal, ServerMessage};
use chatter_core::protocol::{CallInfo, CallLeaveReason, JoinedCall, Participant, Track, TrackKind};
use chatter_core::{CallId, ChatId, ParticipantId, SessionId, Timestamp, UserId};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use str0m::media::MediaKind;
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// How often sockets, connect timeouts and speakers are checked.
const HOUSEKEEPING: Duration = Duration::from_millis(250);
/// Datagrams read in one go before other work gets a turn.
const READ_BURST: usize = 256;
/// Connections' wake-ups are rounded up to this grid, so one wake-up serves every
/// connection due within it: hundreds of connections each asking for its own instant
/// (reports, retransmission and ICE timers) woke the task thousands of times a second.
/// Media never waits for it: packets are forwarded as they arrive.
const TIMER_GRAIN: Duration = Duration::from_millis(5);
/// After handling what the socket had, the task waits this long before reading it again,
/// so datagrams arriving one by one (every receiver's reports: thousands a second in a
/// large call) are read in bursts rather than each waking the task. What was read is
/// forwarded first: a packet waits at most this (and the timer's millisecond) more.
const READ_PAUSE: Duration = Duration::from_millis(2);

/// One running call.
#[derive(Debug)]
pub(super) struct Call {
    pub room: Room,
    pub peers: Vec<PeerKey>,
    pub speakers: Speakers,
}

/// The SFU's state; see the module docs.
#[derive(Debug)]
pub(super) struct Engine {
    socket: UdpSocket,
    /// The address clients send to (the candidate's).
    candidate: SocketAddr,
    config: Arc<SfuConfig>,
    sink: Arc<dyn CallSink>,
    pub calls: HashMap<ChatId, Call>,
    call_ids: HashMap<CallId, ChatId>,
    pub peers: PeerMap<Peer>,
    by_addr: HashMap<SocketAddr, PeerKey>,
    next_key: PeerKey,
    /// Datagrams to send at the end of the round.
    outbox: Outbox,
    /// Connections with output to poll.
    pub dirty: Dirty,
    /// Connections' wake-up times (stale entries are skipped).
    wakes: BinaryHeap<Reverse<(Instant, PeerKey)>>,
    pub forwarded: u64,
    pub discontinuities: u64,
    keyframes_asked: u64,
    started: Instant,
}

impl Engine {
    pub fn new(socket: UdpSocket, config: Arc<SfuConfig>, sink: Arc<dyn CallSink>) -> Result<Self, SfuError> {
        let bound = socket.local_addr()?;
        let candidate = match config.public {
            Some(p) if p.port() == 0 => SocketAddr::new(p.ip(), bound.port()),
            Some(p) => p,
            None => bound,
        };
        if candidate.ip().is_unspecified() {
            return Err(SfuError::Invalid(format!(
                "the RTC socket binds {bound}: clients need a concrete address (set --rtc-public-addr)"
            )));
        }
        Ok(Self {
            socket,
            candidate,
            config,
            sink,
            calls: HashMap::new(),
            call_ids: HashMap::new(),
            peers: PeerMap::default(),
            by_addr: HashMap::new(),
            next_key: 1,
            outbox: Outbox::default(),
            dirty: Dirty::default(),
            wakes: BinaryHeap::new(),
            forwarded: 0,
            discontinuities: 0,
            keyframes_asked: 0,
            started: Instant::now(),
        })
    }

    pub fn spawn(self, inbox: mpsc::UnboundedReceiver<Request>) {
        tokio::spawn(self.run(inbox));
    }

    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Request>) {
        let mut buf = vec![0u8; 2048];
        let mut housekeeping = tokio::time::interval(HOUSEKEEPING);
        housekeeping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // One timer, moved only when the wake-up changes: a new one per round cost a
        // registration in tokio's timer wheel each time.
        let mut wake = self.started;
        let sleep = tokio::time::sleep_until(wake.into());
        tokio::pin!(sleep);
        let mut just_read = false;
        loop {
            self.drive();
            if std::mem::take(&mut just_read) {
                tokio::time::sleep(READ_PAUSE).await;
            }
            let now = Instant::now();
            // A wake-up already due (left by `poll`'s cap) is not put off to the grid.
            let next = self.next_wake().map_or(now + Duration::from_secs(1), |at| {
                if at <= now { at } else { on_grid(self.started, at, TIMER_GRAIN) }
            });
            if next != wake {
                wake = next;
                sleep.as_mut().reset(wake.into());
            }
            tokio::select! {
                request = inbox.recv() => match request {
                    Some(Request::Stop) | None => break,
                    Some(request) => self.request(request),
                },
                received = self.socket.recv_from(&mut buf) => {
                    match received {
                        Ok((n, source)) => self.receive(&buf[..n], source),
                        Err(e) => tracing::debug!(error = %e, "rtc socket read"),
                    }
                    // Drained: pause before the next read. Stopped at the cap: read on.
                    for _ in 0..READ_BURST {
                        match self.socket.try_recv_from(&mut buf) {
                            Ok((n, source)) => self.receive(&buf[..n], source),
                            Err(_) => {
                                just_read = true;
                                break;
                            }
                        }
                    }
                }
                _ = &mut sleep => {}
                _ = housekeeping.tick() => self.housekeeping(),
            }
            self.timeouts(Instant::now());
        }
        let keys: Vec<PeerKey> = self.peers.keys().copied().collect();
        for key in keys {
            self.remove(key, CallLeaveReason::Disconnected);
        }
        self.drive();
        tracing::info!("sfu stopped");
    }

    fn mark(&mut self, key: PeerKey) {
        self.dirty.mark(key);
    }

    fn next_wake(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, key))) = self.wakes.peek().copied() {
            match self.peers.get(&key) {
                Some(peer) if peer.wake == at => return Some(at),
                _ => {
                    self.wakes.pop();
                }
            }
        }
        None
    }

    /// Gives connections whose wake-up time passed their timeout.
    fn timeouts(&mut self, now: Instant) {
        while let Some(Reverse((at, key))) = self.wakes.peek().copied() {
            if at > now {
                break;
            }
            self.wakes.pop();
            let Some(peer) = self.peers.get_mut(&key) else { continue };
            if peer.wake != at {
                continue;
            }
            if let Err(e) = peer.rtc.handle_input(Input::Timeout(now)) {
                tracing::debug!(error = %e, "rtc timeout");
                self.remove(key, CallLeaveReason::IceFailed);
                continue;
            }
            self.mark(key);
        }
    }

    fn receive(&mut self, data: &[u8], source: SocketAddr) {
        let Ok(contents) = data.try_into() else { return };
        let input = Input::Receive(
            Instant::now(),
            Receive { proto: Protocol::Udp, source, destination: self.candidate, contents },
        );
        let known =
            self.by_addr.get(&source).copied().filter(|k| self.peers.get(k).is_some_and(|p| p.rtc.accepts(&input)));
        let key = match known {
            Some(key) => key,
            None => {
                let Some(key) = self.peers.values().find(|p| p.rtc.accepts(&input)).map(|p| p.key) else {
                    return;
                };
                self.by_addr.insert(source, key);
                if let Some(peer) = self.peers.get_mut(&key) {
                    peer.addrs.push(source);
                }
                key
            }
        };
        let Some(peer) = self.peers.get_mut(&key) else { return };
        if let Err(e) = peer.rtc.handle_input(input) {
            tracing::debug!(error = %e, "rtc input");
            self.remove(key, CallLeaveReason::IceFailed);
            return;
        }
        self.mark(key);
    }

    /// Polls every connection with work until each only waits for time.
    fn drive(&mut self) {
        while let Some(key) = self.dirty.next() {
            self.poll(key);
        }
        self.flush();
        let now = Instant::now();
        let mut said = Vec::new();
        for call in self.calls.values_mut() {
            if let Some(speakers) = call.speakers.decide(now) {
                said.push((call.room.chat_id().clone(), speakers));
            }
        }
        for (chat_id, participant_ids) in said {
            if let Some(call) = self.calls.get(&chat_id) {
                let event = CallEvent::ActiveSpeaker { call_id: call.room.call_id().clone(), participant_ids };
                self.tell(call, &event, None);
            }
        }
    }

    fn flush(&mut self) {
        let dropped = self.outbox.flush(&self.socket);
        if dropped > 0 {
            tracing::trace!(dropped, "rtc sends dropped");
        }
    }

    fn poll(&mut self, key: PeerKey) {
        // Timeouts already due are handled here, not through the wake-up heap: a written
        // frame is packetized on the next timeout, which str0m asks for at once.
        let mut due_now = 0;
        loop {
            let Some(peer) = self.peers.get_mut(&key) else { return };
            if !peer.rtc.is_alive() {
                self.remove(key, CallLeaveReason::IceFailed);
                return;
            }
            if let Some((sdp, offered)) = peer.offer() {
                let Some(call_id) = self.calls.get(&peer.chat_id).map(|c| c.room.call_id()) else { return };
                send_offer(&*self.sink, &peer.session_id, call_id, sdp, offered);
                continue;
            }
            match peer.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    let now = Instant::now();
                    if at <= now && due_now < 4 {
                        due_now += 1;
                        if let Err(e) = peer.rtc.handle_input(Input::Timeout(now)) {
                            tracing::debug!(error = %e, "rtc timeout");
                            self.remove(key, CallLeaveReason::IceFailed);
                            return;
                        }
                        continue;
                    }
                    if peer.wake != at {
                        peer.wake = at;
                        self.wakes.push(Reverse((at, key)));
                    }
                    return;
                }
                Ok(Output::Transmit(t)) => {
                    if self.outbox.push(&t.contents, t.destination) {
                        self.flush();
                    }
                }
                Ok(Output::Event(event)) => self.event(key, event),
                Err(e) => {
                    tracing::debug!(error = %e, "rtc output");
                    self.remove(key, CallLeaveReason::IceFailed);
                    return;
                }
            }
        }
    }

    fn event(&mut self, key: PeerKey, event: Event) {
        match event {
            Event::Connected => {
                if let Some(peer) = self.peers.get_mut(&key) {
                    peer.connected = true;
                }
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.remove(key, CallLeaveReason::IceFailed);
            }
            Event::MediaAdded(m) if m.direction.is_receiving() => self.published(key, m.mid, m.kind, None),
            Event::MediaChanged(m) => {
                let publishes = self.peers.get_mut(&key).is_some_and(|p| p.track_in(m.mid).is_some());
                match (publishes, m.direction.is_receiving()) {
                    (true, false) => self.unpublished(key, m.mid),
                    // A client sending on a line the server sends on is not publishing, nor
                    // one on a line it paused.
                    (false, true)
                        if self
                            .peers
                            .get(&key)
                            .is_some_and(|p| p.owns_line(m.mid) || p.paused.iter().any(|(mid, _)| *mid == m.mid)) => {}
                    (false, true) => {
                        let kind = self.peers.get_mut(&key).and_then(|p| p.rtc.media(m.mid).map(|x| x.kind()));
                        if let Some(kind) = kind {
                            self.published(key, m.mid, kind, None);
                        }
                    }
                    // A paused line the client stopped sending on is gone.
                    (false, false) => {
                        if let Some(p) = self.peers.get_mut(&key) {
                            p.paused.retain(|(mid, _)| *mid != m.mid);
                        }
                    }
                    _ => {}
                }
            }
            Event::MediaData(data) => self.forward(key, data),
            Event::KeyframeRequest(request) => self.keyframe_request(key, request),
            _ => {}
        }
    }

    /// A participant started sending on `mid`: a new track for everyone else.
    /// (`as_kind`: a paused line started again with a track of that kind.)
    fn published(&mut self, key: PeerKey, mid: str0m::media::Mid, kind: MediaKind, as_kind: Option<TrackKind>) {
        let track_id = RandomIds.new_id();
        let Some(peer) = self.peers.get_mut(&key) else { return };
        let video = kind == MediaKind::Video;
        let Some(call) = self.calls.get_mut(&peer.chat_id) else { return };
        let line = call.room.media_added(&peer.participant_id, &mid.to_string(), video, track_id, as_kind);
        let track = match line {
            Ok(NewLine::Published(track)) => track,
            Ok(NewLine::Stopped(kind)) => {
                peer.paused.push((mid, kind));
                return;
            }
            Err(_) => return,
        };
        if peer.track_in(mid).is_none() {
            peer.ins.push(TrackIn { mid, track_id: track.track_id.clone(), video, keyframe_asked: None });
        }
        let participant_id = peer.participant_id.clone();
        let own = CallEvent::Track {
            call_id: call.room.call_id().clone(),
            participant_id: participant_id.clone(),
            track: track.clone(),
        };
        self.sink.to_session(&peer.session_id, ServerMessage::Call(own));
        let call_id = call.room.call_id().clone();
        let others: Vec<PeerKey> = call.peers.iter().copied().filter(|k| *k != key).collect();
        let mut on_idle_line = false;
        for other in others {
            let Some(p) = self.peers.get_mut(&other) else { continue };
            // On an idle line the track flows at once: say which it is first.
            if let Some(seen) = p.open(key, mid, participant_id.clone(), track.clone()) {
                let event =
                    CallEvent::Track { call_id: call_id.clone(), participant_id: participant_id.clone(), track: seen };
                self.sink.to_session(&p.session_id, ServerMessage::Call(event));
                on_idle_line = true;
            }
            self.mark(other);
        }
        if on_idle_line && video {
            self.ask_keyframe(key, mid, str0m::media::KeyframeRequestKind::Pli, true);
        }
    }

    /// A participant stopped sending on `mid`.
    fn unpublished(&mut self, key: PeerKey, mid: str0m::media::Mid) {
        let Some(peer) = self.peers.get_mut(&key) else { return };
        peer.ins.retain(|t| t.mid != mid);
        peer.paused.retain(|(m, _)| *m != mid);
        let Some(call) = self.calls.get_mut(&peer.chat_id) else { return };
        let Some(track) = call.room.media_removed(&peer.participant_id, &mid.to_string()) else { return };
        let event = CallEvent::TrackRemoved {
            call_id: call.room.call_id().clone(),
            participant_id: peer.participant_id.clone(),
            track_id: track.track_id,
        };
        let others: Vec<PeerKey> = call.peers.iter().copied().filter(|k| *k != key).collect();
        for other in others {
            if let Some(p) = self.peers.get_mut(&other) {
                p.close(key, Some(mid));
                self.mark(other);
            }
        }
        if let Some(call) = self.peers.get(&key).and_then(|p| self.calls.get(&p.chat_id)) {
            self.tell(call, &event, None);
        }
    }

    /// Sends a call event to every participant's session (but `except`).
    fn tell(&self, call: &Call, event: &CallEvent, except: Option<&ParticipantId>) {
        for (participant_id, session_id) in call.room.sessions() {
            if Some(participant_id) != except {
                self.sink.to_session(session_id, ServerMessage::Call(event.clone()));
            }
        }
    }

    /// Takes a participant out of its call, telling everyone (itself included); the last
    /// one out ends the call.
    pub(super) fn remove(&mut self, key: PeerKey, reason: CallLeaveReason) {
        let Some(peer) = self.peers.remove(&key) else { return };
        self.by_addr.retain(|_, k| *k != key);
        let Some(call) = self.calls.get_mut(&peer.chat_id) else { return };
        call.peers.retain(|k| *k != key);
        call.speakers.forget(&peer.participant_id);
        call.room.leave(&peer.participant_id);
        let call_id = call.room.call_id().clone();
        let others = call.peers.clone();
        for other in others {
            if let Some(p) = self.peers.get_mut(&other) {
                p.close(key, None);
                self.mark(other);
            }
        }
        let left = CallEvent::ParticipantLeft {
            call_id: call_id.clone(),
            participant_id: peer.participant_id.clone(),
            reason,
        };
        self.sink.to_session(&peer.session_id, ServerMessage::Call(left.clone()));
        if let Some(call) = self.calls.get(&peer.chat_id) {
            self.tell(call, &left, None);
        }
        tracing::debug!(participant = %peer.participant_id, ?reason, "left the call");
        if self.calls.get(&peer.chat_id).is_some_and(|c| c.room.is_empty()) {
            self.calls.remove(&peer.chat_id);
            self.call_ids.remove(&call_id);
            self.sink.to_chat(&peer.chat_id, ServerMessage::CallEnded { chat_id: peer.chat_id.clone(), call_id });
        }
    }

    fn request(&mut self, request: Request) {
        match request {
            Request::Join { chat_id, user_id, session_id, reply } => {
                let _ = reply.send(self.join(chat_id, user_id, session_id));
            }
            Request::Leave { chat_id, session_id, reply } => {
                let key = self.calls.get(&chat_id).and_then(|c| self.key_in(c, &session_id));
                let _ = reply.send(match key {
                    Some(key) => {
                        self.remove(key, CallLeaveReason::Left);
                        Ok(())
                    }
                    None => Err(SfuError::NotInCall),
                });
            }
            Request::Info { chat_id, session_id, reply } => {
                let info = self.calls.get(&chat_id).map(|c| {
                    let mut participants = c.room.participants();
                    let reader = session_id.as_ref().and_then(|s| self.key_in(c, s)).and_then(|k| self.peers.get(&k));
                    if let Some(reader) = reader {
                        reader.as_seen(&mut participants);
                    }
                    CallInfo { call_id: c.room.call_id().clone(), participants }
                });
                let _ = reply.send(info);
            }
            Request::Signal { session_id, signal, reply } => {
                let _ = reply.send(self.signal(&session_id, signal));
            }
            Request::Command { session_id, command, reply } => {
                let _ = reply.send(self.command(&session_id, command));
            }
            Request::SessionEnded { session_ids } => {
                let ended: HashSet<&SessionId> = session_ids.iter().collect();
                let keys: Vec<PeerKey> =
                    self.peers.values().filter(|p| ended.contains(&p.session_id)).map(|p| p.key).collect();
                for key in keys {
                    self.remove(key, CallLeaveReason::Removed);
                }
            }
            Request::Stop => {}
            Request::MemberRemoved { chat_id, user_id } => {
                let keys: Vec<PeerKey> = self
                    .calls
                    .get(&chat_id)
                    .map(|c| {
                        c.peers
                            .iter()
                            .copied()
                            .filter(|k| {
                                self.peers
                                    .get(k)
                                    .and_then(|p| c.room.owner(&p.participant_id))
                                    .is_some_and(|(u, _)| *u == user_id)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                for key in keys {
                    self.remove(key, CallLeaveReason::Removed);
                }
            }
            Request::Running { reply } => {
                let running = self
                    .calls
                    .values()
                    .map(|c| RunningCall {
                        chat_id: c.room.chat_id().clone(),
                        call_id: c.room.call_id().clone(),
                        participants: c
                            .room
                            .participants()
                            .iter()
                            .filter_map(|p| c.room.owner(&p.participant_id))
                            .map(|(user, session)| (session.clone(), user.clone()))
                            .collect(),
                    })
                    .collect();
                let _ = reply.send(running);
            }
            Request::Stats { reply } => {
                let stats = SfuStats {
                    calls: self.calls.len(),
                    peers: self.peers.len(),
                    tracks_in: self.peers.values().map(|p| p.ins.len()).sum(),
                    tracks_out: self.peers.values().map(|p| p.outs.len()).sum(),
                    forwarded: self.forwarded,
                    discontinuities: self.discontinuities,
                    keyframes_asked: self.keyframes_asked,
                };
                let _ = reply.send(stats);
            }
        }
    }

    fn key_in(&self, call: &Call, session_id: &SessionId) -> Option<PeerKey> {
        call.peers.iter().copied().find(|k| self.peers.get(k).is_some_and(|p| &p.session_id == session_id))
    }

    /// The session's connection in call `call_id`.
    fn peer_of(&self, call_id: &CallId, session_id: &SessionId) -> Result<PeerKey, SfuError> {
        let call = self.call_ids.get(call_id).and_then(|chat| self.calls.get(chat)).ok_or(SfuError::NotInCall)?;
        self.key_in(call, session_id).ok_or(SfuError::NotInCall)
    }

    fn join(&mut self, chat_id: ChatId, user_id: UserId, session_id: SessionId) -> Result<JoinedCall, SfuError> {
        if let Some(old) = self.calls.get(&chat_id).and_then(|c| self.key_in(c, &session_id)) {
            self.remove(old, CallLeaveReason::Removed);
        }
        let participant_id = ParticipantId::new(RandomIds.new_id());
        let key = self.next_key;
        let mut peer =
            Peer::new(key, chat_id.clone(), participant_id.clone(), session_id, self.candidate, Instant::now())?;
        let started = !self.calls.contains_key(&chat_id);
        if started {
            let call_id = CallId::new(RandomIds.new_id());
            let room = Room::new(call_id.clone(), chat_id.clone(), self.config.max_participants);
            self.call_ids.insert(call_id, chat_id.clone());
            self.calls.insert(chat_id.clone(), Call { room, peers: Vec::new(), speakers: Speakers::default() });
        }
        let Some(call) = self.calls.get_mut(&chat_id) else { return Err(SfuError::NoCall) };
        // A room is never empty and full at once: a refused join leaves no empty call.
        let participant =
            call.room.join(participant_id.clone(), user_id.clone(), peer.session_id.clone()).map_err(room_error)?;
        self.next_key += 1;
        // Everything published so far is offered once the client's first offer is answered.
        for other in &call.peers {
            let Some(o) = self.peers.get(other) else { continue };
            for track_in in &o.ins {
                if let Some(track) = call
                    .room
                    .participant(&o.participant_id)
                    .and_then(|p| p.tracks.into_iter().find(|t| t.track_id == track_in.track_id))
                {
                    peer.open(o.key, track_in.mid, o.participant_id.clone(), track);
                }
            }
        }
        call.peers.push(key);
        let call_id = call.room.call_id().clone();
        let joined = CallEvent::ParticipantJoined { call_id: call_id.clone(), participant: participant.clone() };
        // Others' mids on this connection are not known until the server offers them.
        let mut participants: Vec<Participant> = call.room.participants();
        peer.as_seen(&mut participants);
        self.peers.insert(key, peer);
        if let Some(call) = self.calls.get(&chat_id) {
            self.tell(call, &joined, Some(&participant_id));
        }
        if started {
            self.sink
                .to_chat(&chat_id, ServerMessage::CallStarted { chat_id: chat_id.clone(), call_id: call_id.clone() });
        }
        Ok(JoinedCall {
            call_id,
            participant_id,
            participants,
            ice_servers: self.config.ice.servers(&user_id, SystemTime::now()),
        })
    }

    fn signal(&mut self, session_id: &SessionId, signal: CallSignal) -> Result<(), SfuError> {
        let key = self.peer_of(signal.call_id(), session_id)?;
        let Some(peer) = self.peers.get_mut(&key) else { return Err(SfuError::NotInCall) };
        match signal {
            CallSignal::Offer { call_id, sdp } => {
                let reply = match peer.accept_offer(&sdp, Instant::now())? {
                    Offered::Answer(sdp) => Some(CallSignal::Answer { call_id, sdp }),
                    Offered::Crossed(ours) => Some(CallSignal::Offer { call_id, sdp: ours }),
                    Offered::Ignored => None,
                };
                if let Some(reply) = reply {
                    self.sink.to_session(session_id, ServerMessage::CallSignal(reply));
                }
            }
            CallSignal::Answer { sdp, .. } => {
                let answered = peer.accept_answer(&sdp);
                self.mark(key);
                for (origin, mid) in answered?.opened_video {
                    self.ask_keyframe(origin, mid, str0m::media::KeyframeRequestKind::Pli, true);
                }
            }
            CallSignal::Ice { candidate, .. } => peer.add_candidate(&candidate.candidate)?,
        }
        self.mark(key);
        Ok(())
    }

    fn command(&mut self, session_id: &SessionId, command: CallCommand) -> Result<(), SfuError> {
        let key = self.peer_of(command.call_id(), session_id)?;
        let Some(peer) = self.peers.get(&key) else { return Err(SfuError::NotInCall) };
        let (chat_id, participant_id) = (peer.chat_id.clone(), peer.participant_id.clone());
        let Some(call) = self.calls.get_mut(&chat_id) else { return Err(SfuError::NotInCall) };
        match command {
            CallCommand::Publish { kind, enabled: true, .. } => {
                // A line paused with a track of this kind carries the new one at once;
                // else the offer that adds a line does.
                let paused = self.peers.get_mut(&key).and_then(|p| {
                    let at = p.paused.iter().position(|(_, k)| *k == kind)?;
                    Some(p.paused.remove(at).0)
                });
                match paused {
                    Some(mid) => self.published(key, mid, media_kind(kind), Some(kind)),
                    None => call.room.announce(&participant_id, kind).map_err(room_error)?,
                }
                Ok(())
            }
            CallCommand::Publish { kind, enabled: false, .. } => {
                // The client keeps the line and stops sending (a removed line is seen in
                // the renegotiation that removes it instead).
                let mid = call
                    .room
                    .participant(&participant_id)
                    .and_then(|p| p.tracks.into_iter().find(|t| t.kind == kind))
                    .and_then(|t| t.mid)
                    .and_then(|m| self.peers.get(&key).and_then(|p| p.ins.iter().find(|t| t.mid.to_string() == m)))
                    .map(|t| t.mid);
                match mid {
                    Some(mid) => {
                        self.unpublished(key, mid);
                        if let Some(peer) = self.peers.get_mut(&key) {
                            peer.paused.push((mid, kind));
                        }
                    }
                    // Stopped before its line arrived: the line pauses when it does.
                    None => {
                        call.room.withdraw(&participant_id, kind);
                    }
                }
                Ok(())
            }
            CallCommand::Mute { call_id, track_id, muted } => {
                let track = call.room.mute(&participant_id, &track_id, muted).map_err(room_error)?;
                let own = CallEvent::Track { call_id: call_id.clone(), participant_id: participant_id.clone(), track };
                self.sink.to_session(session_id, ServerMessage::Call(own));
                let others: Vec<PeerKey> = call.peers.iter().copied().filter(|k| *k != key).collect();
                for other in others {
                    let Some(p) = self.peers.get_mut(&other) else { continue };
                    if let Some(track) = p.set_muted(&track_id, muted) {
                        let event = CallEvent::Track {
                            call_id: call_id.clone(),
                            participant_id: participant_id.clone(),
                            track,
                        };
                        self.sink.to_session(&p.session_id, ServerMessage::Call(event));
                    }
                }
                Ok(())
            }
        }
    }

    /// Participants without a socket past the grace, and connections that never
    /// connected, leave.
    fn housekeeping(&mut self) {
        let now = Instant::now();
        let started = self.started;
        let stamp = |t: Instant| {
            Timestamp::from_micros(i64::try_from(t.saturating_duration_since(started).as_micros()).unwrap_or(i64::MAX))
        };
        let at = stamp(now);
        let grace = i64::try_from(self.config.socket_grace.as_micros()).unwrap_or(i64::MAX);
        let mut gone = Vec::new();
        for call in self.calls.values_mut() {
            for key in &call.peers {
                let Some(peer) = self.peers.get_mut(key) else { continue };
                let (connected, since) = match self.sink.socket(&peer.session_id) {
                    SocketState::Held => (true, now),
                    // Away since it was last known to hold one, but not before it joined.
                    SocketState::Away { since } => (false, since.map_or(now, |t| t.max(peer.joined).min(now))),
                };
                call.room.set_connected(&peer.participant_id, connected, stamp(since));
                if connected && let Some((sdp, offered)) = peer.offer_to_resend(now) {
                    send_offer(&*self.sink, &peer.session_id, call.room.call_id(), sdp, offered);
                }
                if !peer.connected && now.duration_since(peer.joined) > self.config.connect_timeout {
                    gone.push((*key, CallLeaveReason::IceFailed));
                }
            }
            for participant in call.room.gone(at, grace) {
                if let Some(key) =
                    call.peers.iter().find(|k| self.peers.get(k).is_some_and(|p| p.participant_id == participant))
                {
                    gone.push((*key, CallLeaveReason::Disconnected));
                }
            }
        }
        for (key, reason) in gone {
            self.remove(key, reason);
        }
    }

    /// Asks a publisher for a keyframe on its `mid` (at most every half second unless
    /// `now_anyway`: a new receiver needs one at once).
    pub(super) fn ask_keyframe(
        &mut self,
        origin: PeerKey,
        mid: str0m::media::Mid,
        kind: str0m::media::KeyframeRequestKind,
        now_anyway: bool,
    ) {
        let Some(peer) = self.peers.get_mut(&origin) else { return };
        let now = Instant::now();
        let Some(track) = peer.track_in(mid) else { return };
        if !now_anyway && track.keyframe_asked.is_some_and(|at| now.duration_since(at) < Duration::from_millis(500)) {
            return;
        }
        track.keyframe_asked = Some(now);
        self.keyframes_asked += 1;
        if let Some(mut writer) = peer.rtc.writer(mid)
            && let Err(e) = writer.request_keyframe(None, kind)
        {
            tracing::trace!(error = %e, "keyframe request");
        }
        self.mark(origin);
    }
}

/// Connections with output to poll, each once.
#[derive(Debug, Default)]
pub(super) struct Dirty {
    queue: VecDeque<PeerKey>,
    queued: PeerSet,
}

impl Dirty {
    pub fn mark(&mut self, key: PeerKey) {
        if self.queued.insert(key) {
            self.queue.push_back(key);
        }
    }

    fn next(&mut self) -> Option<PeerKey> {
        let key = self.queue.pop_front()?;
        self.queued.remove(&key);
        Some(key)
    }
}

/// Sends a server offer to its session, each track it opens announced first by
/// `call.track` (the client maps the new lines by mid).
fn send_offer(
    sink: &dyn CallSink,
    session_id: &SessionId,
    call_id: &CallId,
    sdp: String,
    offered: Vec<(ParticipantId, Track)>,
) {
    for (participant_id, track) in offered {
        let event = CallEvent::Track { call_id: call_id.clone(), participant_id, track };
        sink.to_session(session_id, ServerMessage::Call(event));
    }
    sink.to_session(session_id, ServerMessage::CallSignal(CallSignal::Offer { call_id: call_id.clone(), sdp }));
}

/// `at` rounded up to the next point of a grid of `grain` from `start`.
fn on_grid(start: Instant, at: Instant, grain: Duration) -> Instant {
    let since = at.saturating_duration_since(start).as_nanos();
    let grain = grain.as_nanos().max(1);
    start + Duration::from_nanos(u64::try_from(since.div_ceil(grain) * grain).unwrap_or(u64::MAX))
}

fn room_error(e: RoomError) -> SfuError {
    match e {
        RoomError::Full { max } => SfuError::Full { max },
        RoomError::NotInCall => SfuError::NotInCall,
        RoomError::NoSuchTrack(t) => SfuError::NoSuchTrack(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_ups_round_up_to_the_grid_and_never_earlier() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let grain = ms(5);
        assert_eq!(on_grid(start, start, grain), start);
        assert_eq!(on_grid(start, start + ms(1), grain), start + ms(5));
        assert_eq!(on_grid(start, start + ms(5), grain), start + ms(5));
        assert_eq!(on_grid(start, start + ms(5) + Duration::from_nanos(1), grain), start + ms(10));
        // Before the grid's start (a connection made earlier): its start.
        assert_eq!(on_grid(start + ms(3), start, grain), start + ms(3));
    }
}
