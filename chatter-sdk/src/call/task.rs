//! The call task: signalling and state. It runs, one at a time, the server's frames,
//! the media backend's events and the app's commands, and drives the backend through
//! [`MediaBackend`]. Negotiation follows the core's [`Negotiation`]: the client offers
//! first and yields on glare.

use super::backend::{MediaBackend, MediaEvent, MediaEvents, RemoteTrack};
use super::{CallUpdate, Command, ConnectionState, Shared, lock};
use crate::call_router::{CallFrame, ReadAgain};
use crate::client::Client;
use crate::error::{Result, SdkError};
use crate::platform;
use crate::sync::backoff;
use chatter_core::call::{Negotiation, NegotiationStep};
use chatter_core::protocol::ws::{CallCommand, CallEvent, CallSignal, ClientFrame};
use chatter_core::protocol::{JoinedCall, TrackKind};
use chatter_core::{CallId, ParticipantId};
use futures::{Stream, StreamExt, stream};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;

pub(super) struct CallTask {
    client: Client,
    shared: Arc<Shared>,
    call_id: CallId,
    me: ParticipantId,
    media: Arc<dyn MediaBackend>,
    negotiation: Negotiation,
    /// Receiving lines (mids) media has arrived on.
    lines: HashSet<String>,
    /// This task's route in the client's call router.
    route: mpsc::UnboundedSender<CallFrame>,
    /// Call events that came while the call was being read again after a reconnection:
    /// applied after what that read finds, as they are newer.
    catching_up: Option<Vec<CallEvent>>,
}

/// What the task runs next.
enum Input {
    Frame(CallFrame),
    Media(MediaEvent),
    Command(Command),
    /// The frames' route or the app's commands are gone: the call is over.
    Closed,
}

/// The task's three inputs as one stream, in arrival order per input.
fn inputs(
    mut frames: mpsc::UnboundedReceiver<CallFrame>,
    mut media: mpsc::UnboundedReceiver<MediaEvent>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) -> impl Stream<Item = Input> {
    let closed = || stream::once(async { Input::Closed });
    let frames = stream::poll_fn(move |cx| frames.poll_recv(cx)).map(Input::Frame).chain(closed());
    let commands = stream::poll_fn(move |cx| commands.poll_recv(cx)).map(Input::Command).chain(closed());
    let media = stream::poll_fn(move |cx| media.poll_recv(cx)).map(Input::Media);
    stream::select(frames, stream::select(media, commands))
}

impl CallTask {
    /// Opens the call's media, sends the first offer and runs the task.
    pub(super) async fn start(
        client: Client,
        shared: Arc<Shared>,
        joined: &JoinedCall,
        publish: &[TrackKind],
        media: Arc<dyn MediaBackend>,
        (route, frames): (mpsc::UnboundedSender<CallFrame>, mpsc::UnboundedReceiver<CallFrame>),
        commands: mpsc::UnboundedReceiver<Command>,
    ) -> Result<()> {
        let (events, media_events) = mpsc::unbounded_channel();
        media.open(&joined.ice_servers, MediaEvents(events)).await?;
        let mut task = CallTask {
            client,
            shared,
            call_id: joined.call_id.clone(),
            me: joined.participant_id.clone(),
            media,
            negotiation: Negotiation::new(),
            lines: HashSet::new(),
            route,
            catching_up: None,
        };
        if let Err(e) = task.begin(publish).await {
            task.media.close().await;
            return Err(e);
        }
        let spawner = task.client.inner.spawner.clone();
        spawner.spawn(task.run(inputs(frames, media_events, commands)));
        Ok(())
    }

    async fn begin(&mut self, publish: &[TrackKind]) -> Result<()> {
        for kind in publish {
            self.publish(*kind, true).await?;
        }
        if publish.is_empty() {
            // An offer needs a media line: receive-only audio until something is published.
            self.media.add_receiver(TrackKind::Audio).await?;
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

    async fn run(mut self, inputs: impl Stream<Item = Input>) {
        let mut inputs = std::pin::pin!(inputs);
        while let Some(input) = inputs.next().await {
            let outcome = match input {
                Input::Frame(frame) => self.frame(frame).await,
                Input::Media(event) => {
                    self.media_event(event);
                    Ok(())
                }
                Input::Command(command) => self.command(command).await,
                Input::Closed => Err(Over),
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
        self.media.close().await;
        lock(&self.shared.remote).clear();
        lock(&self.shared.published).clear();
        *lock(&self.shared.state) = ConnectionState::Closed;
        self.update(CallUpdate::ConnectionState(ConnectionState::Closed));
        self.update(CallUpdate::Ended);
    }

    async fn offer(&mut self) -> Result<()> {
        match self.media.create_offer().await {
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

    async fn answer(&mut self, offer: String) -> Result<()> {
        if self.negotiation.remote_offer() == NegotiationStep::RollbackThenAnswer {
            self.media.rollback().await?;
        }
        let sdp = self.media.accept_offer(offer).await?;
        self.send(ClientFrame::CallSignal(CallSignal::Answer { call_id: self.call_id.clone(), sdp }));
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
                    if let Err(e) = self.media.accept_answer(sdp).await {
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
                if let Err(e) = self.media.add_ice_candidate(candidate).await {
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

    /// Line `mid` carries the track the call view names for it: tell the backend and the
    /// app.
    fn attach(&mut self, mid: &str) {
        if !self.lines.contains(mid) {
            return; // its media has not arrived yet
        }
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
        remote.push(new.clone());
        drop(remote);
        self.media.remote_track_changed(mid, Some(&new));
        for old in gone {
            self.update(CallUpdate::TrackUnsubscribed {
                participant_id: old.participant_id().clone(),
                track_id: old.track_id().to_owned(),
            });
        }
        self.update(CallUpdate::TrackSubscribed(new));
    }

    /// The remote tracks matching `which` are gone: their lines carry nothing now.
    fn detach(&mut self, which: impl Fn(&RemoteTrack) -> bool) {
        let gone: Vec<RemoteTrack> = {
            let mut remote = lock(&self.shared.remote);
            let gone = remote.iter().filter(|t| which(t)).cloned().collect();
            remote.retain(|t| !which(t));
            gone
        };
        for track in gone {
            self.media.remote_track_changed(track.mid(), None);
            self.update(CallUpdate::TrackUnsubscribed {
                participant_id: track.participant_id().clone(),
                track_id: track.track_id().to_owned(),
            });
        }
    }

    fn media_event(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Candidate(candidate) => {
                self.send(ClientFrame::CallSignal(CallSignal::Ice { call_id: self.call_id.clone(), candidate }));
            }
            MediaEvent::State(state) => {
                *lock(&self.shared.state) = state;
                self.update(CallUpdate::ConnectionState(state));
            }
            MediaEvent::Track(mid) => {
                self.lines.insert(mid.clone());
                self.attach(&mid);
            }
        }
    }

    async fn command(&mut self, command: Command) -> Result<(), Over> {
        match command {
            Command::Publish { kind, enabled, reply } => {
                let _ = reply.send(self.publish(kind, enabled).await);
                Ok(())
            }
            Command::Mute { kind, muted, reply } => {
                let _ = reply.send(self.mute(kind, muted).await);
                Ok(())
            }
            Command::RestartIce { reply } => {
                let _ = reply.send(self.restart_ice().await);
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

    /// Starts or stops publishing `kind`. The server hears of a track before its media,
    /// so it can name the line when the offer comes.
    async fn publish(&mut self, kind: TrackKind, enabled: bool) -> Result<()> {
        let published = lock(&self.shared.published).contains(&kind);
        if enabled == published {
            return Ok(());
        }
        let command =
            |enabled| ClientFrame::Call(CallCommand::Publish { call_id: self.call_id.clone(), kind, enabled });
        if !enabled {
            lock(&self.shared.published).retain(|k| *k != kind);
            self.send(command(false));
            return self.media.unpublish(kind).await;
        }
        self.send(command(true));
        let added = match self.media.publish(kind).await {
            Ok(added) => added,
            Err(e) => {
                self.send(command(false));
                return Err(e);
            }
        };
        lock(&self.shared.published).push(kind);
        if added && self.negotiation.offer_needed() {
            self.offer().await?;
        }
        Ok(())
    }

    async fn mute(&mut self, kind: TrackKind, muted: bool) -> Result<()> {
        if !lock(&self.shared.published).contains(&kind) {
            return Err(SdkError::InvalidRequest(format!("no {kind} track is published")));
        }
        self.media.set_muted(kind, muted).await?;
        let track_id = lock(&self.shared.view)
            .participant(&self.me)
            .and_then(|p| p.tracks.iter().find(|t| t.kind == kind).map(|t| t.track_id.clone()));
        // Before the server has seen the track there is no id to name yet: the media is
        // muted all the same.
        if let Some(track_id) = track_id {
            self.send(ClientFrame::Call(CallCommand::Mute { call_id: self.call_id.clone(), track_id, muted }));
        }
        Ok(())
    }

    async fn restart_ice(&mut self) -> Result<()> {
        self.media.restart_ice().await?;
        if self.negotiation.offer_needed() {
            self.offer().await?;
        }
        Ok(())
    }
}

/// The call is over for this client.
struct Over;
