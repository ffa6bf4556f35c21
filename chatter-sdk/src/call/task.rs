//! The call task: it owns the peer connection and runs, one at a time, the server's
//! frames, the connection's events and the app's commands. Negotiation follows the
//! core's [`Negotiation`]: the client offers first and yields on glare.

use super::media::{Line, LocalTrack, MediaEvent, RemoteTrack, media_error, mid_of, peer_connection, read_into};
use super::{CallOptions, CallUpdate, Command, ConnectionState, Shared, lock};
use crate::call_router::{CallFrame, ReadAgain};
use crate::client::Client;
use crate::error::{Result, SdkError};
use crate::platform;
use crate::sync::backoff;
use chatter_core::call::{Negotiation, NegotiationStep};
use chatter_core::protocol::ws::{CallCommand, CallEvent, CallSignal, ClientFrame, IceCandidate};
use chatter_core::protocol::{JoinedCall, TrackKind};
use chatter_core::{CallId, ParticipantId};
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use webrtc::peer_connection::{PeerConnection, RTCPeerConnectionState, RTCSessionDescription};

pub(super) struct CallTask {
    client: Client,
    shared: Arc<Shared>,
    call_id: CallId,
    me: ParticipantId,
    pc: Arc<dyn PeerConnection>,
    negotiation: Negotiation,
    /// Receiving lines by mid.
    lines: HashMap<String, Line>,
    /// Tracks the app stopped, their lines kept and silent, to send again on the same
    /// line: a new line per share would grow the SDP past the server's limit in a long
    /// call.
    stopped: HashMap<TrackKind, LocalTrack>,
    /// This task's route in the client's call router.
    route: mpsc::UnboundedSender<CallFrame>,
    /// Call events that came while the call was being read again after a reconnection:
    /// applied after what that read finds, as they are newer.
    catching_up: Option<Vec<CallEvent>>,
}

impl CallTask {
    /// Connects the call's media (the first offer is sent) and runs the task.
    pub(super) async fn start(
        client: Client,
        shared: Arc<Shared>,
        joined: &JoinedCall,
        options: CallOptions,
        (route, frames): (mpsc::UnboundedSender<CallFrame>, mpsc::UnboundedReceiver<CallFrame>),
        commands: mpsc::UnboundedReceiver<Command>,
    ) -> Result<()> {
        let (media_tx, media) = mpsc::unbounded_channel();
        let pc = peer_connection(&joined.ice_servers, options.udp_addrs.clone(), media_tx).await?;
        let mut task = CallTask {
            client,
            shared,
            call_id: joined.call_id.clone(),
            me: joined.participant_id.clone(),
            pc,
            negotiation: Negotiation::new(),
            lines: HashMap::new(),
            stopped: HashMap::new(),
            route,
            catching_up: None,
        };
        if let Err(e) = task.begin(&options.publish).await {
            let _ = task.pc.close().await;
            return Err(e);
        }
        let spawner = task.client.inner.spawner.clone();
        spawner.spawn(task.run(frames, media, commands));
        Ok(())
    }

    async fn begin(&mut self, publish: &[TrackKind]) -> Result<()> {
        for kind in publish {
            self.add_track(*kind).await?;
        }
        if publish.is_empty() {
            // An offer needs a media line: receive-only audio until something is published.
            let init = RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, ..Default::default() };
            self.pc.add_transceiver_from_kind(RtpCodecKind::Audio, Some(init)).await.map_err(media_error)?;
        }
        if self.negotiation.offer_needed() {
            self.offer().await?;
        }
        Ok(())
    }

    fn send(&self, frame: ClientFrame) {
        self.client.inner.send_frame(frame);
    }

    fn update(&self, update: CallUpdate) {
        let _ = self.shared.updates.send(update);
    }

    async fn run(
        mut self,
        mut frames: mpsc::UnboundedReceiver<CallFrame>,
        mut media: mpsc::UnboundedReceiver<MediaEvent>,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        loop {
            let outcome = tokio::select! {
                frame = frames.recv() => match frame {
                    Some(frame) => self.frame(frame).await,
                    None => Err(Over),
                },
                event = media.recv() => match event {
                    Some(event) => { self.media(event).await; Ok(()) }
                    None => Ok(()),
                },
                command = commands.recv() => match command {
                    Some(command) => self.command(command).await,
                    None => Err(Over),
                },
            };
            if outcome.is_err() {
                break;
            }
        }
        self.close().await;
    }

    /// Closes the media and tells the app, once the call is over for this client.
    async fn close(&mut self) {
        self.client.inner.calls.unregister(&self.call_id, &self.route);
        if let Err(e) = self.pc.close().await {
            tracing::debug!(error = %e, "closing the call's connection");
        }
        lock(&self.shared.remote).clear();
        lock(&self.shared.local).clear();
        *lock(&self.shared.state) = ConnectionState::Closed;
        self.update(CallUpdate::ConnectionState(ConnectionState::Closed));
        self.update(CallUpdate::Ended);
    }

    async fn offer(&mut self) -> Result<()> {
        let made = async {
            let offer = self.pc.create_offer(None).await.map_err(media_error)?;
            self.pc.set_local_description(offer.clone()).await.map_err(media_error)?;
            Ok::<_, SdkError>(offer.sdp)
        };
        match made.await {
            Ok(sdp) => {
                self.send(ClientFrame::CallSignal(CallSignal::Offer { call_id: self.call_id.clone(), sdp }));
                Ok(())
            }
            Err(e) => {
                self.negotiation.offer_failed();
                Err(e)
            }
        }
    }

    async fn answer(&mut self, sdp: String) -> Result<()> {
        if self.negotiation.remote_offer() == NegotiationStep::RollbackThenAnswer {
            let rollback = RTCSessionDescription::rollback(None).map_err(media_error)?;
            self.pc.set_local_description(rollback).await.map_err(media_error)?;
        }
        let offer = RTCSessionDescription::offer(sdp).map_err(media_error)?;
        self.pc.set_remote_description(offer).await.map_err(media_error)?;
        let answer = self.pc.create_answer(None).await.map_err(media_error)?;
        self.pc.set_local_description(answer.clone()).await.map_err(media_error)?;
        self.send(ClientFrame::CallSignal(CallSignal::Answer { call_id: self.call_id.clone(), sdp: answer.sdp }));
        if self.negotiation.answered() {
            self.offer().await?;
        }
        Ok(())
    }

    async fn frame(&mut self, frame: CallFrame) -> Result<(), Over> {
        match frame {
            CallFrame::Signal(CallSignal::Offer { sdp, .. }) => {
                if let Err(e) = self.answer(sdp).await {
                    tracing::warn!(error = %e, "the server's offer could not be answered");
                }
            }
            CallFrame::Signal(CallSignal::Answer { sdp, .. }) => {
                if self.negotiation.remote_answer() {
                    let applied = match RTCSessionDescription::answer(sdp) {
                        Ok(answer) => self.pc.set_remote_description(answer).await.map_err(media_error),
                        Err(e) => Err(media_error(e)),
                    };
                    if let Err(e) = applied {
                        tracing::warn!(error = %e, "the server's answer could not be applied");
                    }
                    if self.negotiation.answer_applied()
                        && let Err(e) = self.offer().await
                    {
                        tracing::warn!(error = %e, "renegotiation failed");
                    }
                }
            }
            CallFrame::Signal(CallSignal::Ice { candidate, .. }) => {
                let init = RTCIceCandidateInit {
                    candidate: candidate.candidate,
                    sdp_mid: candidate.sdp_mid,
                    sdp_mline_index: candidate.sdp_mline_index,
                    username_fragment: candidate.username_fragment,
                    ..Default::default()
                };
                if let Err(e) = self.pc.add_ice_candidate(init).await {
                    tracing::debug!(error = %e, "server candidate not added");
                }
            }
            CallFrame::Event(event) => match &mut self.catching_up {
                Some(held) => held.push(event),
                None => return self.event(event),
            },
            CallFrame::Ended => return Err(Over),
            CallFrame::Leave => {
                if let Err(e) = self.client.inner.api.leave_call(&self.shared.chat_id).await {
                    tracing::debug!(error = %e, "leaving the call of a disposed client");
                }
                return Err(Over);
            }
            CallFrame::Reconnected => self.read_again(),
            CallFrame::ReadAgain(found) => return self.caught_up(found),
        }
        Ok(())
    }

    /// Reads the call again after the sync connection was away (beside the task, which
    /// goes on with media and commands, holding call events until the answer comes as
    /// [`CallFrame::ReadAgain`]). A failed read is tried again, up to five times.
    fn read_again(&mut self) {
        if self.catching_up.is_some() {
            return; // a read is already on its way: its answer is newer than the gap
        }
        self.catching_up = Some(Vec::new());
        let (client, chat_id, route) = (self.client.clone(), self.shared.chat_id.clone(), self.route.clone());
        self.client.inner.spawner.spawn(async move {
            for attempt in 1..=5 {
                match client.inner.api.call_info(&chat_id).await {
                    Ok(info) => {
                        let _ = route.send(CallFrame::ReadAgain(ReadAgain::Running(info)));
                        return;
                    }
                    Err(SdkError::NotFound(_)) => {
                        let _ = route.send(CallFrame::ReadAgain(ReadAgain::NoCall));
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, attempt, "the call could not be read again after a reconnection");
                        // The sync connection's delays, from its second: about 0.5, 1, 2, 4, 8 s.
                        platform::sleep(backoff::delay(attempt + 1, platform::random_u64())).await;
                    }
                }
            }
            let _ = route.send(CallFrame::ReadAgain(ReadAgain::Unknown));
        });
    }

    /// Applies what the call read again shows was missed, as the events that would have
    /// said it, then the events held meanwhile.
    fn caught_up(&mut self, found: ReadAgain) -> Result<(), Over> {
        let held = self.catching_up.take().unwrap_or_default();
        let missed = match found {
            ReadAgain::Running(info) => lock(&self.shared.view).catch_up(Some(&info)),
            ReadAgain::NoCall => lock(&self.shared.view).catch_up(None),
            // Nothing more is known: the held events are applied as they are.
            ReadAgain::Unknown => Vec::new(),
        };
        for event in missed.into_iter().chain(held) {
            self.event(event)?;
        }
        Ok(())
    }

    fn event(&mut self, event: CallEvent) -> Result<(), Over> {
        // Frames can repeat what catching up already applied: the app hears it once.
        let who = match &event {
            CallEvent::ParticipantJoined { participant, .. } => Some(&participant.participant_id),
            CallEvent::ParticipantLeft { participant_id, .. } => Some(participant_id),
            _ => None,
        };
        let known = who.is_some_and(|id| lock(&self.shared.view).participant(id).is_some());
        // A track event says a mute changed only against the track as it was.
        let was_muted = match &event {
            CallEvent::Track { participant_id, track, .. } => lock(&self.shared.view)
                .participant(participant_id)
                .and_then(|p| p.tracks.iter().find(|t| t.track_id == track.track_id))
                .map(|t| t.muted),
            _ => None,
        };
        lock(&self.shared.view).apply(&event);
        match event {
            CallEvent::ParticipantJoined { participant, .. } => {
                if !known {
                    self.update(CallUpdate::ParticipantJoined(participant));
                }
            }
            CallEvent::ParticipantLeft { participant_id, reason, .. } => {
                self.detach(|t| t.participant_id() == &participant_id);
                let me = participant_id == self.me;
                if known || me {
                    self.update(CallUpdate::ParticipantLeft { participant_id, reason });
                }
                if me {
                    return Err(Over);
                }
            }
            CallEvent::Track { participant_id, track, .. } => {
                if participant_id != self.me
                    && let Some(mid) = &track.mid
                {
                    self.attach(mid);
                }
                if was_muted.is_some_and(|m| m != track.muted) {
                    self.update(CallUpdate::TrackMuted { participant_id, track });
                }
            }
            CallEvent::TrackRemoved { track_id, .. } => self.detach(|t| t.track_id() == track_id),
            CallEvent::ActiveSpeaker { participant_ids, .. } => {
                self.update(CallUpdate::ActiveSpeakers(participant_ids))
            }
        }
        Ok(())
    }

    /// Line `mid` carries the track the call view names for it: count its packets there.
    fn attach(&mut self, mid: &str) {
        let Some(line) = self.lines.get(mid) else { return }; // its packets have not arrived yet
        let Some((participant, track)) =
            lock(&self.shared.view).track_by_mid(mid).map(|(p, t)| (p.participant_id.clone(), t.clone()))
        else {
            return;
        };
        let mut remote = lock(&self.shared.remote);
        if remote.iter().any(|r| r.mid() == mid && r.track_id() == track.track_id) {
            return;
        }
        let gone: Vec<RemoteTrack> = remote.iter().filter(|r| r.mid() == mid).cloned().collect();
        remote.retain(|r| r.mid() != mid);
        let new = RemoteTrack::new(participant, track.track_id, track.kind, mid.to_owned());
        *lock(line) = Some(new.sink());
        remote.push(new.clone());
        drop(remote);
        for old in gone {
            self.update(CallUpdate::TrackUnsubscribed {
                participant_id: old.participant_id().clone(),
                track_id: old.track_id().to_owned(),
            });
        }
        self.update(CallUpdate::TrackSubscribed(new));
    }

    /// The remote tracks matching `which` are gone: their lines' packets are dropped.
    fn detach(&mut self, which: impl Fn(&RemoteTrack) -> bool) {
        let gone: Vec<RemoteTrack> = {
            let mut remote = lock(&self.shared.remote);
            let gone = remote.iter().filter(|t| which(t)).cloned().collect();
            remote.retain(|t| !which(t));
            gone
        };
        for track in gone {
            if let Some(line) = self.lines.get(track.mid()) {
                let mut current = lock(line);
                if current.as_ref().is_some_and(|s| Arc::ptr_eq(s, &track.sink())) {
                    *current = None;
                }
            }
            self.update(CallUpdate::TrackUnsubscribed {
                participant_id: track.participant_id().clone(),
                track_id: track.track_id().to_owned(),
            });
        }
    }

    async fn media(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Candidate(init) => {
                let candidate = IceCandidate {
                    candidate: init.candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_mline_index: init.sdp_mline_index,
                    username_fragment: init.username_fragment,
                };
                self.send(ClientFrame::CallSignal(CallSignal::Ice { call_id: self.call_id.clone(), candidate }));
            }
            MediaEvent::State(state) => {
                let state = match state {
                    RTCPeerConnectionState::Connected => ConnectionState::Connected,
                    RTCPeerConnectionState::Disconnected => ConnectionState::Disconnected,
                    RTCPeerConnectionState::Failed => ConnectionState::Failed,
                    RTCPeerConnectionState::Closed => ConnectionState::Closed,
                    _ => ConnectionState::Connecting,
                };
                *lock(&self.shared.state) = state;
                self.update(CallUpdate::ConnectionState(state));
            }
            MediaEvent::Track(track) => {
                let Some(mid) = mid_of(&self.pc, &track).await else {
                    tracing::debug!("a remote track without a line");
                    return;
                };
                let line = self.lines.entry(mid.clone()).or_default().clone();
                read_into(track, line);
                self.attach(&mid);
            }
        }
    }

    /// Publishes a track of `kind` (the one published already, if any); answers it and
    /// whether it added a line, which needs a renegotiation.
    async fn add_track(&mut self, kind: TrackKind) -> Result<(LocalTrack, bool)> {
        if let Some(track) = lock(&self.shared.local).get(&kind) {
            return Ok((track.clone(), false));
        }
        self.send(ClientFrame::Call(CallCommand::Publish { call_id: self.call_id.clone(), kind, enabled: true }));
        let (track, added) = match self.stopped.remove(&kind) {
            // Its line is still negotiated: the server carries it again on `call.publish`.
            Some(track) => {
                track.set_muted(false);
                (track, false)
            }
            None => (LocalTrack::add(&self.pc, kind, (platform::random_u64() as u32).max(1)).await?, true),
        };
        lock(&self.shared.local).insert(kind, track.clone());
        Ok((track, added))
    }

    async fn command(&mut self, command: Command) -> Result<(), Over> {
        match command {
            Command::Publish { kind, enabled, reply } => {
                let _ = reply.send(self.publish(kind, enabled).await);
                Ok(())
            }
            Command::Mute { kind, muted, reply } => {
                let _ = reply.send(self.mute(kind, muted));
                Ok(())
            }
            Command::Leave { reply } => {
                let left = match self.client.inner.api.leave_call(&self.shared.chat_id).await {
                    Ok(()) | Err(SdkError::NotFound(_)) => Ok(()),
                    Err(e) => Err(e),
                };
                let _ = reply.send(left);
                Err(Over)
            }
        }
    }

    async fn publish(&mut self, kind: TrackKind, enabled: bool) -> Result<Option<LocalTrack>> {
        if !enabled {
            let Some(track) = lock(&self.shared.local).remove(&kind) else { return Ok(None) };
            // The line stays, sending nothing (an inactive line would stop webrtc-rs's
            // sender for good); `call.publish` tells the server the track is gone.
            track.set_muted(true);
            self.stopped.insert(kind, track);
            self.send(ClientFrame::Call(CallCommand::Publish { call_id: self.call_id.clone(), kind, enabled: false }));
            return Ok(None);
        }
        let (track, added) = self.add_track(kind).await?;
        if added && self.negotiation.offer_needed() {
            self.offer().await?;
        }
        Ok(Some(track))
    }

    fn mute(&mut self, kind: TrackKind, muted: bool) -> Result<()> {
        let Some(local) = lock(&self.shared.local).get(&kind).cloned() else {
            return Err(SdkError::InvalidRequest(format!("no {kind} track is published")));
        };
        local.set_muted(muted);
        let track_id = lock(&self.shared.view)
            .participant(&self.me)
            .and_then(|p| p.tracks.iter().find(|t| t.kind == kind).map(|t| t.track_id.clone()));
        // Before the server has seen the track there is no id to name yet: the samples
        // are still dropped.
        if let Some(track_id) = track_id {
            self.send(ClientFrame::Call(CallCommand::Mute { call_id: self.call_id.clone(), track_id, muted }));
        }
        Ok(())
    }
}

/// The call is over for this client.
struct Over;
