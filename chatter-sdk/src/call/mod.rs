//! Calls: join a chat's call, publish the microphone, camera and screen, receive
//! everyone else's tracks, and follow who joins, leaves, mutes and speaks. The SDK does
//! the signalling and keeps the call's state; the media is a [`MediaBackend`]'s: natively
//! `webrtc_media::WebrtcMedia` on the `webrtc` crate (the app feeds it
//! encoded samples), in a browser `RTCPeerConnection`, on a phone the platform's WebRTC.
//! Signalling rides the client's sync connection, so
//! [`Client::start_sync`](crate::Client::start_sync) must run.
//!
//! ```no_run
//! # #[cfg(not(target_family = "wasm"))]
//! # async fn demo(client: chatter_sdk::Client, chat_id: chatter_sdk::ChatId) -> chatter_sdk::Result<()> {
//! use chatter_sdk::call::webrtc_media::WebrtcMedia;
//! use chatter_sdk::call::{CallOptions, CallUpdate};
//! use chatter_sdk::protocol::TrackKind;
//!
//! client.start_sync();
//! let media = WebrtcMedia::new();
//! let call = client.chat(&chat_id).join_call(CallOptions::publishing(&[TrackKind::Audio]), media.clone()).await?;
//! let mut updates = call.updates();
//! while let Some(update) = updates.next().await {
//!     match update {
//!         CallUpdate::TrackSubscribed(track) => {
//!             let received = media.received(track.mid());
//!             println!("hearing {}", track.participant_id());
//!         }
//!         CallUpdate::Ended => break,
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```

mod backend;
mod task;
#[cfg(not(target_family = "wasm"))]
pub mod webrtc_media;

pub use backend::{MediaBackend, MediaEvents, RemoteTrack};

use crate::chat::ChatHandle;
use crate::error::{Result, SdkError};
use chatter_core::call::CallView;
use chatter_core::protocol::{CallLeaveReason, Participant, Track, TrackKind};
use chatter_core::{CallId, ChatId, ParticipantId};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{broadcast, mpsc, oneshot};

/// How to join a call.
///
/// ```no_run
/// use chatter_sdk::call::CallOptions;
/// use chatter_sdk::protocol::TrackKind;
/// let options = CallOptions::publishing(&[TrackKind::Audio, TrackKind::Video]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Tracks published from the start (in the first offer).
    pub publish: Vec<TrackKind>,
}

impl CallOptions {
    /// Publishing these tracks from the start.
    ///
    /// ```
    /// use chatter_sdk::call::CallOptions;
    /// let listen_only = CallOptions::publishing(&[]);
    /// assert!(listen_only.publish.is_empty());
    /// ```
    pub fn publishing(kinds: &[TrackKind]) -> Self {
        Self { publish: kinds.to_vec() }
    }
}

/// The media connection's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Connecting to the server's media socket.
    Connecting,
    /// Media flows.
    Connected,
    /// Connectivity was lost; it may come back.
    Disconnected,
    /// The connection failed; the server drops the participant.
    Failed,
    /// Closed (left or ended).
    Closed,
}

/// Something that happened in the call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CallUpdate {
    /// Someone joined.
    ParticipantJoined(Participant),
    /// Someone left.
    ParticipantLeft {
        /// Who.
        participant_id: ParticipantId,
        /// Why.
        reason: CallLeaveReason,
    },
    /// A track of another participant started arriving.
    TrackSubscribed(RemoteTrack),
    /// A track of another participant was removed.
    TrackUnsubscribed {
        /// Whose.
        participant_id: ParticipantId,
        /// Which.
        track_id: String,
    },
    /// A participant (this one included) muted or unmuted a track.
    TrackMuted {
        /// Whose.
        participant_id: ParticipantId,
        /// The track, with its new state.
        track: Track,
    },
    /// Who is speaking, loudest first.
    ActiveSpeakers(Vec<ParticipantId>),
    /// The media connection's state changed.
    ConnectionState(ConnectionState),
    /// This client is out of the call: it ended, this participant was dropped (see the
    /// `ParticipantLeft` about it before), or the app left.
    Ended,
}

/// What the app asks of the call task.
#[derive(Debug)]
enum Command {
    Publish { kind: TrackKind, enabled: bool, reply: oneshot::Sender<Result<()>> },
    Mute { kind: TrackKind, muted: bool, reply: oneshot::Sender<Result<()>> },
    RestartIce { reply: oneshot::Sender<Result<()>> },
    Leave { reply: oneshot::Sender<Result<()>> },
}

/// What the call task and the app share.
#[derive(Debug)]
struct Shared {
    chat_id: ChatId,
    view: Mutex<CallView>,
    /// What this client publishes, in the order it started.
    published: Mutex<Vec<TrackKind>>,
    remote: Mutex<Vec<RemoteTrack>>,
    state: Mutex<ConnectionState>,
    updates: broadcast::Sender<CallUpdate>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A call this client is in. Cheap to clone; leave with [`Call::leave`] (dropping every
/// clone leaves too).
#[derive(Debug, Clone)]
pub struct Call {
    shared: Arc<Shared>,
    call_id: CallId,
    me: ParticipantId,
    commands: mpsc::UnboundedSender<Command>,
    _leave_on_drop: Arc<LeaveOnDrop>,
}

#[derive(Debug)]
struct LeaveOnDrop(mpsc::UnboundedSender<Command>);

impl Drop for LeaveOnDrop {
    fn drop(&mut self) {
        let (reply, _) = oneshot::channel();
        let _ = self.0.send(Command::Leave { reply });
    }
}

/// The updates of a call, in order. Updates missed by a reader too slow to keep up
/// (over 1,024 behind) are skipped.
#[derive(Debug)]
pub struct CallUpdates(broadcast::Receiver<CallUpdate>);

impl CallUpdates {
    /// The next update; `None` once the call is over for this client.
    ///
    /// ```no_run
    /// # async fn demo(call: chatter_sdk::call::Call) {
    /// let mut updates = call.updates();
    /// while let Some(update) = updates.next().await {
    ///     println!("{update:?}");
    /// }
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<CallUpdate> {
        loop {
            match self.0.recv().await {
                Ok(update) => return Some(update),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl ChatHandle {
    /// Joins the chat's call (starting it if none runs) and connects its media through
    /// `media`, which the call owns from now on (keep a clone to reach the media, as
    /// `webrtc_media::WebrtcMedia` allows). One backend serves one call.
    ///
    /// ```no_run
    /// # #[cfg(not(target_family = "wasm"))]
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::call::{CallOptions, webrtc_media::WebrtcMedia};
    /// let call = client.chat(&"c_team".into()).join_call(CallOptions::default(), WebrtcMedia::new()).await?;
    /// println!("{} people in the call", call.participants().len());
    /// # Ok(()) }
    /// ```
    pub async fn join_call(&self, options: CallOptions, media: impl MediaBackend + 'static) -> Result<Call> {
        let (client, chat_id) = (self.client(), self.id());
        let joined = client.call(client.inner.api.join_call(chat_id)).await?;
        let (frames_tx, frames) = mpsc::unbounded_channel();
        client.inner.calls.register(joined.call_id.clone(), frames_tx.clone());
        let (updates, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            chat_id: chat_id.clone(),
            view: Mutex::new(CallView::new(&joined)),
            published: Mutex::default(),
            remote: Mutex::default(),
            state: Mutex::new(ConnectionState::Connecting),
            updates,
        });
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let route = frames_tx.clone();
        let started = task::CallTask::start(
            client.clone(),
            shared.clone(),
            &joined,
            &options.publish,
            Arc::new(media),
            (frames_tx, frames),
            commands_rx,
        )
        .await;
        if let Err(e) = started {
            client.inner.calls.unregister(&joined.call_id, &route);
            let _ = client.inner.api.leave_call(chat_id).await;
            return Err(e);
        }
        Ok(Call {
            shared,
            call_id: joined.call_id,
            me: joined.participant_id,
            _leave_on_drop: Arc::new(LeaveOnDrop(commands.clone())),
            commands,
        })
    }

    /// The chat's running call, if any.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// if let Some(call) = client.chat(&"c_team".into()).running_call().await? {
    ///     println!("{} in the call", call.participants.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn running_call(&self) -> Result<Option<chatter_core::protocol::CallInfo>> {
        let client = self.client();
        match client.call(client.inner.api.call_info(self.id())).await {
            Ok(info) => Ok(Some(info)),
            Err(SdkError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Call {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T>>) -> Command) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).map_err(|_| SdkError::InvalidRequest("the call is over".into()))?;
        answer.await.map_err(|_| SdkError::InvalidRequest("the call is over".into()))?
    }

    /// The call's id.
    ///
    /// ```no_run
    /// # fn demo(call: chatter_sdk::call::Call) { println!("{}", call.call_id()); }
    /// ```
    pub fn call_id(&self) -> &CallId {
        &self.call_id
    }

    /// The chat the call belongs to.
    ///
    /// ```no_run
    /// # fn demo(call: chatter_sdk::call::Call) { println!("{}", call.chat_id()); }
    /// ```
    pub fn chat_id(&self) -> &ChatId {
        &self.shared.chat_id
    }

    /// This client's participant id.
    ///
    /// ```no_run
    /// # fn demo(call: chatter_sdk::call::Call) { println!("{}", call.participant_id()); }
    /// ```
    pub fn participant_id(&self) -> &ParticipantId {
        &self.me
    }

    /// Everyone in the call (this client included) with their tracks and mute states.
    ///
    /// ```no_run
    /// # fn demo(call: chatter_sdk::call::Call) {
    /// for p in call.participants() {
    ///     println!("{}: {} tracks", p.user_id, p.tracks.len());
    /// }
    /// # }
    /// ```
    pub fn participants(&self) -> Vec<Participant> {
        lock(&self.shared.view).participants().to_vec()
    }

    /// Who is speaking, loudest first.
    ///
    /// ```no_run
    /// # fn demo(call: chatter_sdk::call::Call) { println!("{:?}", call.active_speakers()); }
    /// ```
    pub fn active_speakers(&self) -> Vec<ParticipantId> {
        lock(&self.shared.view).speakers().to_vec()
    }

    /// The tracks of others arriving now (their media is the backend's, by
    /// [`RemoteTrack::mid`]).
    ///
    /// ```no_run
    /// # fn demo(call: chatter_sdk::call::Call) {
    /// for t in call.remote_tracks() {
    ///     println!("{} {} on line {}", t.participant_id(), t.kind(), t.mid());
    /// }
    /// # }
    /// ```
    pub fn remote_tracks(&self) -> Vec<RemoteTrack> {
        lock(&self.shared.remote).clone()
    }

    /// What this client publishes now.
    ///
    /// ```no_run
    /// # fn demo(call: chatter_sdk::call::Call) {
    /// let on_air = call.published().contains(&chatter_sdk::protocol::TrackKind::Audio);
    /// # }
    /// ```
    pub fn published(&self) -> Vec<TrackKind> {
        lock(&self.shared.published).clone()
    }

    /// The media connection's state.
    ///
    /// ```no_run
    /// # fn demo(call: chatter_sdk::call::Call) { println!("{:?}", call.connection_state()); }
    /// ```
    pub fn connection_state(&self) -> ConnectionState {
        *lock(&self.shared.state)
    }

    /// The call's updates from now on.
    ///
    /// ```no_run
    /// # async fn demo(call: chatter_sdk::call::Call) {
    /// let mut updates = call.updates();
    /// let first = updates.next().await;
    /// # }
    /// ```
    pub fn updates(&self) -> CallUpdates {
        CallUpdates(self.shared.updates.subscribe())
    }

    /// Starts or stops publishing the microphone. Stopped, its line stays (sending
    /// nothing); started again, it goes out on that line as a new track for the others.
    ///
    /// ```no_run
    /// # async fn demo(call: chatter_sdk::call::Call) -> chatter_sdk::Result<()> {
    /// call.set_microphone_enabled(true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_microphone_enabled(&self, enabled: bool) -> Result<()> {
        self.ask(|reply| Command::Publish { kind: TrackKind::Audio, enabled, reply }).await
    }

    /// Starts or stops publishing the camera (stopping and starting again as for
    /// [`Call::set_microphone_enabled`]).
    ///
    /// ```no_run
    /// # async fn demo(call: chatter_sdk::call::Call) -> chatter_sdk::Result<()> {
    /// call.set_camera_enabled(true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_camera_enabled(&self, enabled: bool) -> Result<()> {
        self.ask(|reply| Command::Publish { kind: TrackKind::Video, enabled, reply }).await
    }

    /// Starts or stops sharing the screen (stopping and sharing again as for
    /// [`Call::set_microphone_enabled`]: the same line, however often).
    ///
    /// ```no_run
    /// # async fn demo(call: chatter_sdk::call::Call) -> chatter_sdk::Result<()> {
    /// call.set_screen_share_enabled(true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_screen_share_enabled(&self, enabled: bool) -> Result<()> {
        self.ask(|reply| Command::Publish { kind: TrackKind::Screen, enabled, reply }).await
    }

    /// Restarts ICE: new credentials and a new offer, so the media finds a path again
    /// after the network changed (Wi-Fi to cellular) or the connection went
    /// [`ConnectionState::Disconnected`]. The tracks and the call stay as they are.
    ///
    /// ```no_run
    /// # async fn demo(call: chatter_sdk::call::Call) -> chatter_sdk::Result<()> {
    /// call.restart_ice().await?;
    /// # Ok(()) }
    /// ```
    pub async fn restart_ice(&self) -> Result<()> {
        self.ask(|reply| Command::RestartIce { reply }).await
    }

    /// Mutes or unmutes a published track: its media stops while muted, and the others
    /// see the state.
    ///
    /// ```no_run
    /// # async fn demo(call: chatter_sdk::call::Call) -> chatter_sdk::Result<()> {
    /// call.set_muted(chatter_sdk::protocol::TrackKind::Audio, true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_muted(&self, kind: TrackKind, muted: bool) -> Result<()> {
        self.ask(|reply| Command::Mute { kind, muted, reply }).await
    }

    /// Leaves the call and closes its media.
    ///
    /// ```no_run
    /// # async fn demo(call: chatter_sdk::call::Call) -> chatter_sdk::Result<()> {
    /// call.leave().await?;
    /// # Ok(()) }
    /// ```
    pub async fn leave(&self) -> Result<()> {
        self.ask(|reply| Command::Leave { reply }).await
    }
}
