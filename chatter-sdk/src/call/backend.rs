//! The seam between a call's signalling and its media. The SDK runs the call (joining,
//! offers and answers with the server, glare, ICE trickle, who publishes what, mutes,
//! speakers, catching up after a reconnection); a [`MediaBackend`] owns the peer
//! connection and the actual audio and video. The native backend is
//! `webrtc_media::WebrtcMedia` on the `webrtc` crate; a browser
//! implements it on `RTCPeerConnection`, a phone app on its platform's WebRTC stack.
//!
//! Every method maps onto the W3C `RTCPeerConnection` API, so an implementation is
//! mostly a forwarding layer:
//!
//! | method | `RTCPeerConnection` |
//! |---|---|
//! | [`open`](MediaBackend::open) | `new RTCPeerConnection({ iceServers })`, event handlers |
//! | [`create_offer`](MediaBackend::create_offer) | `createOffer()`, `setLocalDescription(offer)` |
//! | [`accept_offer`](MediaBackend::accept_offer) | `setRemoteDescription(offer)`, `createAnswer()`, `setLocalDescription(answer)` |
//! | [`rollback`](MediaBackend::rollback) | `setLocalDescription({ type: "rollback" })` |
//! | [`accept_answer`](MediaBackend::accept_answer) | `setRemoteDescription(answer)` |
//! | [`add_ice_candidate`](MediaBackend::add_ice_candidate) | `addIceCandidate(candidate)` |
//! | [`add_receiver`](MediaBackend::add_receiver) | `addTransceiver(kind, { direction: "recvonly" })` |
//! | [`publish`](MediaBackend::publish) | `addTransceiver(track, { direction: "sendonly" })`, or `replaceTrack(track)` on the line kept by `unpublish` |
//! | [`unpublish`](MediaBackend::unpublish) | `replaceTrack(null)` (the line stays) |
//! | [`set_muted`](MediaBackend::set_muted) | `track.enabled = !muted` |
//! | [`restart_ice`](MediaBackend::restart_ice) | `restartIce()` |
//! | [`remote_track_changed`](MediaBackend::remote_track_changed) | which `ontrack` track a tile shows |
//! | [`close`](MediaBackend::close) | `close()`, stopping local tracks |
//!
//! and its events go to the [`MediaEvents`] given to `open`: `onicecandidate`,
//! `onconnectionstatechange`, and `ontrack` (by the transceiver's `mid`).

use super::ConnectionState;
use crate::error::Result;
use crate::platform::{SendOutsideWasm, SyncOutsideWasm};
use chatter_core::ParticipantId;
use chatter_core::protocol::ws::IceCandidate;
use chatter_core::protocol::{IceServer, TrackKind};
use tokio::sync::mpsc;

/// A call's media: one peer connection to the server's SFU, the tracks this client
/// publishes and the ones it receives. The call drives it one method at a time (never
/// two at once) from its own task, and drops it when the call is over (after
/// [`close`](MediaBackend::close)).
///
/// Descriptions are SDP strings as the W3C API gives them. A method that fails returns
/// [`SdkError::Media`](crate::SdkError::Media) with the stack's message.
///
/// ```no_run
/// use chatter_sdk::call::{MediaBackend, MediaEvents, RemoteTrack};
/// use chatter_sdk::protocol::{IceServer, TrackKind, ws::IceCandidate};
///
/// /// Forwards to a platform WebRTC stack (sketch).
/// #[derive(Debug)]
/// struct PlatformMedia;
///
/// #[async_trait::async_trait]
/// impl MediaBackend for PlatformMedia {
///     async fn open(&self, ice_servers: &[IceServer], events: MediaEvents) -> chatter_sdk::Result<()> { Ok(()) }
///     async fn create_offer(&self) -> chatter_sdk::Result<String> { Ok(String::new()) }
///     async fn accept_offer(&self, offer: String) -> chatter_sdk::Result<String> { Ok(String::new()) }
///     async fn rollback(&self) -> chatter_sdk::Result<()> { Ok(()) }
///     async fn accept_answer(&self, answer: String) -> chatter_sdk::Result<()> { Ok(()) }
///     async fn add_ice_candidate(&self, candidate: IceCandidate) -> chatter_sdk::Result<()> { Ok(()) }
///     async fn add_receiver(&self, kind: TrackKind) -> chatter_sdk::Result<()> { Ok(()) }
///     async fn publish(&self, kind: TrackKind) -> chatter_sdk::Result<bool> { Ok(true) }
///     async fn unpublish(&self, kind: TrackKind) -> chatter_sdk::Result<()> { Ok(()) }
///     async fn set_muted(&self, kind: TrackKind, muted: bool) -> chatter_sdk::Result<()> { Ok(()) }
///     async fn restart_ice(&self) -> chatter_sdk::Result<()> { Ok(()) }
///     fn remote_track_changed(&self, mid: &str, track: Option<&RemoteTrack>) {}
///     async fn close(&self) {}
/// }
/// ```
#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
pub trait MediaBackend: SendOutsideWasm + SyncOutsideWasm + std::fmt::Debug {
    /// Opens the peer connection with the call's ICE servers (STUN, and TURN with
    /// time-limited credentials), reporting candidates, state and arriving tracks to
    /// `events`. Called once, first.
    async fn open(&self, ice_servers: &[IceServer], events: MediaEvents) -> Result<()>;

    /// Creates an offer, sets it as the local description and answers its SDP.
    async fn create_offer(&self) -> Result<String>;

    /// Sets the server's `offer` as the remote description, creates an answer, sets it
    /// as the local description and answers its SDP.
    async fn accept_offer(&self, offer: String) -> Result<String>;

    /// Rolls the local offer back (the server's offer crossed it: this side yields).
    async fn rollback(&self) -> Result<()>;

    /// Sets the server's answer to this side's offer as the remote description.
    async fn accept_answer(&self, answer: String) -> Result<()>;

    /// Adds a candidate the server trickled.
    async fn add_ice_candidate(&self, candidate: IceCandidate) -> Result<()>;

    /// Adds a line that only receives `kind`: a first offer needs a line, and a client
    /// that publishes nothing yet has none of its own.
    async fn add_receiver(&self, kind: TrackKind) -> Result<()>;

    /// Starts sending the local track of `kind` (microphone, camera, screen): on a new
    /// line of its own (sending only), or on the line an earlier
    /// [`unpublish`](Self::unpublish) of `kind` kept. Answers whether a line was added,
    /// which needs an offer.
    async fn publish(&self, kind: TrackKind) -> Result<bool>;

    /// Stops sending `kind`, keeping its line for a later [`publish`](Self::publish)
    /// (a new line per share would grow the SDP without end in a long call).
    async fn unpublish(&self, kind: TrackKind) -> Result<()>;

    /// Mutes or unmutes the published track of `kind` (silence or black frames go out
    /// while muted, or nothing).
    async fn set_muted(&self, kind: TrackKind, muted: bool) -> Result<()>;

    /// Gives the connection new ICE credentials: the next offer restarts ICE (after a
    /// network change, or when the connection went `Disconnected` or `Failed`).
    async fn restart_ice(&self) -> Result<()>;

    /// Line `mid` carries `track` from now on (`None`: nothing, the track is gone). The
    /// SFU reuses a line for the next track of its kind, so a backend that keeps state
    /// per remote track (a video element, packet counts) starts it afresh here. Called
    /// before [`CallUpdate::TrackSubscribed`](super::CallUpdate::TrackSubscribed) is sent.
    fn remote_track_changed(&self, mid: &str, track: Option<&RemoteTrack>);

    /// Closes the connection and stops the local tracks.
    async fn close(&self);
}

/// A shared backend is a backend: the app can keep an `Arc` to its own while the call
/// drives it.
#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
impl<M: MediaBackend + ?Sized> MediaBackend for std::sync::Arc<M> {
    async fn open(&self, ice_servers: &[IceServer], events: MediaEvents) -> Result<()> {
        (**self).open(ice_servers, events).await
    }
    async fn create_offer(&self) -> Result<String> {
        (**self).create_offer().await
    }
    async fn accept_offer(&self, offer: String) -> Result<String> {
        (**self).accept_offer(offer).await
    }
    async fn rollback(&self) -> Result<()> {
        (**self).rollback().await
    }
    async fn accept_answer(&self, answer: String) -> Result<()> {
        (**self).accept_answer(answer).await
    }
    async fn add_ice_candidate(&self, candidate: IceCandidate) -> Result<()> {
        (**self).add_ice_candidate(candidate).await
    }
    async fn add_receiver(&self, kind: TrackKind) -> Result<()> {
        (**self).add_receiver(kind).await
    }
    async fn publish(&self, kind: TrackKind) -> Result<bool> {
        (**self).publish(kind).await
    }
    async fn unpublish(&self, kind: TrackKind) -> Result<()> {
        (**self).unpublish(kind).await
    }
    async fn set_muted(&self, kind: TrackKind, muted: bool) -> Result<()> {
        (**self).set_muted(kind, muted).await
    }
    async fn restart_ice(&self) -> Result<()> {
        (**self).restart_ice().await
    }
    fn remote_track_changed(&self, mid: &str, track: Option<&RemoteTrack>) {
        (**self).remote_track_changed(mid, track)
    }
    async fn close(&self) {
        (**self).close().await
    }
}

/// A track another participant publishes, as the call knows it: whose it is, what it
/// carries, and the receiving line (`mid`) its media arrives on at this client. The
/// media itself is the backend's: look it up there by `mid`.
///
/// ```no_run
/// # fn demo(track: chatter_sdk::call::RemoteTrack) {
/// println!("{} from {} on line {}", track.kind(), track.participant_id(), track.mid());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTrack {
    participant_id: ParticipantId,
    track_id: String,
    kind: TrackKind,
    mid: String,
}

impl RemoteTrack {
    /// A track of `participant_id` on line `mid`.
    ///
    /// ```
    /// use chatter_sdk::call::RemoteTrack;
    /// let track = RemoteTrack::new("p_1".into(), "t_1".into(), chatter_sdk::protocol::TrackKind::Audio, "2".into());
    /// assert_eq!(track.mid(), "2");
    /// ```
    pub fn new(participant_id: ParticipantId, track_id: String, kind: TrackKind, mid: String) -> Self {
        Self { participant_id, track_id, kind, mid }
    }

    /// Whose track it is.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::RemoteTrack) { let _ = track.participant_id(); }
    /// ```
    pub fn participant_id(&self) -> &ParticipantId {
        &self.participant_id
    }

    /// The call-wide track id.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::RemoteTrack) { let _ = track.track_id(); }
    /// ```
    pub fn track_id(&self) -> &str {
        &self.track_id
    }

    /// What it carries.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::RemoteTrack) { let _ = track.kind(); }
    /// ```
    pub fn kind(&self) -> TrackKind {
        self.kind
    }

    /// The receiving line (the transceiver's `mid`) its media arrives on.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::RemoteTrack) { let _ = track.mid(); }
    /// ```
    pub fn mid(&self) -> &str {
        &self.mid
    }
}

/// What a backend reports to the call.
#[derive(Debug)]
pub(crate) enum MediaEvent {
    Candidate(IceCandidate),
    State(ConnectionState),
    Track(String),
}

/// Where a [`MediaBackend`] reports what its connection does. Cheap to clone; reports
/// after the call is over are ignored.
///
/// ```no_run
/// # fn demo(events: chatter_sdk::call::MediaEvents) {
/// use chatter_sdk::call::ConnectionState;
/// events.connection_state(ConnectionState::Connected);
/// events.remote_track("1".into());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MediaEvents(pub(crate) mpsc::UnboundedSender<MediaEvent>);

impl MediaEvents {
    /// A local ICE candidate to trickle to the server (`onicecandidate`; an empty
    /// `candidate` ends them).
    ///
    /// ```no_run
    /// # fn demo(events: chatter_sdk::call::MediaEvents) {
    /// use chatter_sdk::protocol::ws::IceCandidate;
    /// events.ice_candidate(IceCandidate {
    ///     candidate: "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host".into(),
    ///     sdp_mid: Some("0".into()),
    ///     sdp_mline_index: Some(0),
    ///     username_fragment: None,
    /// });
    /// # }
    /// ```
    pub fn ice_candidate(&self, candidate: IceCandidate) {
        let _ = self.0.send(MediaEvent::Candidate(candidate));
    }

    /// The connection's state changed (`onconnectionstatechange`).
    ///
    /// ```no_run
    /// # fn demo(events: chatter_sdk::call::MediaEvents) {
    /// events.connection_state(chatter_sdk::call::ConnectionState::Failed);
    /// # }
    /// ```
    pub fn connection_state(&self, state: ConnectionState) {
        let _ = self.0.send(MediaEvent::State(state));
    }

    /// Media started arriving on receiving line `mid` (`ontrack`, with the
    /// transceiver's `mid`). The call answers with
    /// [`MediaBackend::remote_track_changed`] once it knows whose track the line carries.
    ///
    /// ```no_run
    /// # fn demo(events: chatter_sdk::call::MediaEvents) { events.remote_track("3".into()); }
    /// ```
    pub fn remote_track(&self, mid: String) {
        let _ = self.0.send(MediaEvent::Track(mid));
    }
}
