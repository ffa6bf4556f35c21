//! The native [`MediaBackend`]: a peer connection on the `webrtc` crate. The app writes
//! encoded media into the [`LocalTrack`]s it publishes and reads or counts what arrives
//! on [`ReceivedTrack`]s; it keeps a clone of the [`WebrtcMedia`] it joined with to reach
//! them.
//!
//! ```no_run
//! # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
//! use chatter_sdk::call::{CallOptions, webrtc_media::WebrtcMedia};
//! use chatter_sdk::protocol::TrackKind;
//! use std::time::Duration;
//!
//! let media = WebrtcMedia::new();
//! let call = client.chat(&"c_team".into()).join_call(CallOptions::publishing(&[TrackKind::Audio]), media.clone()).await?;
//! let mic = media.local_track(TrackKind::Audio).expect("published");
//! mic.write_sample(bytes::Bytes::from_static(&[0xfc; 80]), Duration::from_millis(20)).await?;
//! for track in media.received_tracks() {
//!     println!("{} packets from {}", track.packets_received(), track.participant_id());
//! }
//! # Ok(()) }
//! ```

mod keyframes;
mod local;
mod received;

pub use local::LocalTrack;
pub use received::ReceivedTrack;

use super::ConnectionState;
use super::backend::{MediaBackend, MediaEvents, RemoteTrack};
use crate::error::{Result, SdkError};
use chatter_core::protocol::ws::IceCandidate;
use chatter_core::protocol::{IceServer, TrackKind};
use keyframes::KeyframeRequests;
use received::{Line, read_into};
use rtc::interceptor::Slot;
use rtc::peer_connection::transport::RTCIceCandidateInit;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpHeaderExtensionCapability, RtpCodecKind};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use rtc::sdp::extmap::AUDIO_LEVEL_URI;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceServer, RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription, Registry,
    register_default_interceptors,
};

pub(crate) fn media_error(e: impl std::fmt::Display) -> SdkError {
    SdkError::Media(e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A call's media on the `webrtc` crate. Cheap to clone: give one clone to
/// [`ChatHandle::join_call`](crate::ChatHandle::join_call) and keep another to feed the
/// published tracks and read the received ones. One `WebrtcMedia` serves one call at a
/// time.
///
/// ```no_run
/// use chatter_sdk::call::webrtc_media::WebrtcMedia;
/// let on_loopback = WebrtcMedia::new().udp_addrs(&["127.0.0.1:0"]);
/// ```
#[derive(Clone, Debug)]
pub struct WebrtcMedia {
    inner: Arc<Inner>,
}

struct Inner {
    udp_addrs: Mutex<Vec<String>>,
    pc: Mutex<Option<Arc<dyn PeerConnection>>>,
    /// Published tracks by kind.
    published: Mutex<HashMap<TrackKind, LocalTrack>>,
    /// Tracks unpublished, their lines kept and silent, to send again on the same line.
    stopped: Mutex<HashMap<TrackKind, LocalTrack>>,
    /// Receiving lines by mid: where each line's packets go now.
    lines: Mutex<HashMap<String, Line>>,
    /// The tracks the lines carry now.
    received: Mutex<Vec<ReceivedTrack>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebrtcMedia")
            .field("udp_addrs", &*lock(&self.udp_addrs))
            .field("open", &lock(&self.pc).is_some())
            .field("published", &lock(&self.published).keys().collect::<Vec<_>>())
            .field("received", &lock(&self.received).len())
            .finish()
    }
}

impl Default for WebrtcMedia {
    fn default() -> Self {
        Self::new()
    }
}

impl WebrtcMedia {
    /// Media on every local interface but loopback (`0.0.0.0:0`).
    ///
    /// ```no_run
    /// let media = chatter_sdk::call::webrtc_media::WebrtcMedia::new();
    /// ```
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                udp_addrs: Mutex::new(vec!["0.0.0.0:0".to_owned()]),
                pc: Mutex::default(),
                published: Mutex::default(),
                stopped: Mutex::default(),
                lines: Mutex::default(),
                received: Mutex::default(),
            }),
        }
    }

    /// Media on these local UDP addresses (tests on one machine use `127.0.0.1:0`),
    /// for a call joined after this.
    ///
    /// ```no_run
    /// let media = chatter_sdk::call::webrtc_media::WebrtcMedia::new().udp_addrs(&["127.0.0.1:0"]);
    /// ```
    pub fn udp_addrs(self, addrs: &[&str]) -> Self {
        *lock(&self.inner.udp_addrs) = addrs.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    /// The track this client publishes of `kind`, if it does.
    ///
    /// ```no_run
    /// # fn demo(media: chatter_sdk::call::webrtc_media::WebrtcMedia) {
    /// let mic = media.local_track(chatter_sdk::protocol::TrackKind::Audio);
    /// # }
    /// ```
    pub fn local_track(&self, kind: TrackKind) -> Option<LocalTrack> {
        lock(&self.inner.published).get(&kind).cloned()
    }

    /// The tracks of others arriving now, with their packet counts.
    ///
    /// ```no_run
    /// # fn demo(media: chatter_sdk::call::webrtc_media::WebrtcMedia) {
    /// for t in media.received_tracks() {
    ///     println!("{} {}: {} packets", t.participant_id(), t.kind(), t.packets_received());
    /// }
    /// # }
    /// ```
    pub fn received_tracks(&self) -> Vec<ReceivedTrack> {
        lock(&self.inner.received).clone()
    }

    /// The track arriving on line `mid` now (see [`RemoteTrack::mid`]).
    ///
    /// ```no_run
    /// # fn demo(media: chatter_sdk::call::webrtc_media::WebrtcMedia, track: chatter_sdk::call::RemoteTrack) {
    /// if let Some(received) = media.received(track.mid()) {
    ///     println!("{} packets", received.packets_received());
    /// }
    /// # }
    /// ```
    pub fn received(&self, mid: &str) -> Option<ReceivedTrack> {
        lock(&self.inner.received).iter().find(|t| t.mid() == mid).cloned()
    }

    fn pc(&self) -> Result<Arc<dyn PeerConnection>> {
        lock(&self.inner.pc).clone().ok_or_else(|| media_error("the media connection is not open"))
    }
}

struct Handler {
    events: MediaEvents,
    /// Remote tracks, to find their lines on the connection.
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => self.events.ice_candidate(IceCandidate {
                candidate: init.candidate,
                sdp_mid: init.sdp_mid,
                sdp_mline_index: init.sdp_mline_index,
                username_fragment: init.username_fragment,
            }),
            Err(e) => tracing::debug!(error = %e, "local candidate not sent"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.events.connection_state(match state {
            RTCPeerConnectionState::Connected => ConnectionState::Connected,
            RTCPeerConnectionState::Disconnected => ConnectionState::Disconnected,
            RTCPeerConnectionState::Failed => ConnectionState::Failed,
            RTCPeerConnectionState::Closed => ConnectionState::Closed,
            _ => ConnectionState::Connecting,
        });
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// A peer connection for a call, reporting to `handler`.
async fn peer_connection(
    ice_servers: &[IceServer],
    udp_addrs: Vec<String>,
    handler: Handler,
) -> Result<Arc<dyn PeerConnection>> {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().map_err(media_error)?;
    // Audio levels let the server tell who speaks.
    let audio_level = RTCRtpHeaderExtensionCapability { uri: AUDIO_LEVEL_URI.to_owned() };
    engine
        .register_header_extension(audio_level, RtpCodecKind::Audio, Some(RTCRtpTransceiverDirection::Sendrecv))
        .map_err(media_error)?;
    let registry = register_default_interceptors(Registry::new(), &mut engine).map_err(media_error)?;
    // Last in the chain, after every interceptor that acts on RTCP.
    let registry = registry.with(Slot::from(14_000), KeyframeRequests::default());
    let servers = ice_servers
        .iter()
        .map(|s| RTCIceServer {
            urls: s.urls.clone(),
            username: s.username.clone().unwrap_or_default(),
            credential: s.credential.clone().unwrap_or_default(),
        })
        .collect();
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().with_ice_servers(servers).build())
        .with_media_engine(engine)
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(handler))
        .with_udp_addrs(udp_addrs)
        .build()
        .await
        .map_err(media_error)?;
    Ok(Arc::new(pc))
}

/// The receiving line (`mid`) a remote track arrived on.
async fn mid_of(pc: &Arc<dyn PeerConnection>, track: &Arc<dyn TrackRemote>) -> Option<String> {
    for transceiver in pc.get_transceivers().await {
        let Ok(Some(receiver)) = transceiver.receiver().await else { continue };
        if std::ptr::addr_eq(Arc::as_ptr(receiver.track()), Arc::as_ptr(track)) {
            return transceiver.mid().await.ok().flatten();
        }
    }
    None
}

#[async_trait::async_trait]
impl MediaBackend for WebrtcMedia {
    async fn open(&self, ice_servers: &[IceServer], events: MediaEvents) -> Result<()> {
        if lock(&self.inner.pc).is_some() {
            return Err(SdkError::InvalidRequest("this WebrtcMedia serves a running call: make one per call".into()));
        }
        let (tracks, mut reported) = mpsc::unbounded_channel();
        let handler = Handler { events: events.clone(), tracks };
        let udp_addrs = lock(&self.inner.udp_addrs).clone();
        let pc = peer_connection(ice_servers, udp_addrs, handler).await?;
        *lock(&self.inner.pc) = Some(pc.clone());
        // Remote tracks need the connection to find their line, so they come here. The
        // task holds the connection weakly: the connection holds the handler, whose
        // sender ends this task once the connection is gone.
        let (media, pc) = (self.clone(), Arc::downgrade(&pc));
        tokio::spawn(async move {
            while let Some(track) = reported.recv().await {
                let Some(pc) = pc.upgrade() else { return };
                let Some(mid) = mid_of(&pc, &track).await else {
                    tracing::debug!("a remote track without a line");
                    continue;
                };
                let line = lock(&media.inner.lines).entry(mid.clone()).or_default().clone();
                read_into(track, line);
                events.remote_track(mid);
            }
        });
        Ok(())
    }

    async fn create_offer(&self) -> Result<String> {
        let pc = self.pc()?;
        let offer = pc.create_offer(None).await.map_err(media_error)?;
        pc.set_local_description(offer.clone()).await.map_err(media_error)?;
        Ok(offer.sdp)
    }

    async fn accept_offer(&self, offer: String) -> Result<String> {
        let pc = self.pc()?;
        pc.set_remote_description(RTCSessionDescription::offer(offer).map_err(media_error)?)
            .await
            .map_err(media_error)?;
        let answer = pc.create_answer(None).await.map_err(media_error)?;
        pc.set_local_description(answer.clone()).await.map_err(media_error)?;
        Ok(answer.sdp)
    }

    async fn rollback(&self) -> Result<()> {
        let rollback = RTCSessionDescription::rollback(None).map_err(media_error)?;
        self.pc()?.set_local_description(rollback).await.map_err(media_error)
    }

    async fn accept_answer(&self, answer: String) -> Result<()> {
        let answer = RTCSessionDescription::answer(answer).map_err(media_error)?;
        self.pc()?.set_remote_description(answer).await.map_err(media_error)
    }

    async fn add_ice_candidate(&self, candidate: IceCandidate) -> Result<()> {
        let init = RTCIceCandidateInit {
            candidate: candidate.candidate,
            sdp_mid: candidate.sdp_mid,
            sdp_mline_index: candidate.sdp_mline_index,
            username_fragment: candidate.username_fragment,
            ..Default::default()
        };
        self.pc()?.add_ice_candidate(init).await.map_err(media_error)
    }

    async fn add_receiver(&self, kind: TrackKind) -> Result<()> {
        let rtp_kind = if kind.is_video() { RtpCodecKind::Video } else { RtpCodecKind::Audio };
        let init = RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, ..Default::default() };
        self.pc()?.add_transceiver_from_kind(rtp_kind, Some(init)).await.map_err(media_error)?;
        Ok(())
    }

    async fn publish(&self, kind: TrackKind) -> Result<bool> {
        if lock(&self.inner.published).contains_key(&kind) {
            return Ok(false);
        }
        // A stopped track's line is still negotiated: it simply sends again.
        let kept = lock(&self.inner.stopped).remove(&kind);
        let (track, added) = match kept {
            Some(track) => {
                track.set_muted(false);
                (track, false)
            }
            None => (LocalTrack::add(&self.pc()?, kind, (crate::platform::random_u64() as u32).max(1)).await?, true),
        };
        lock(&self.inner.published).insert(kind, track);
        Ok(added)
    }

    async fn unpublish(&self, kind: TrackKind) -> Result<()> {
        // The line stays, sending nothing: an inactive line would stop webrtc-rs's sender
        // for good.
        if let Some(track) = lock(&self.inner.published).remove(&kind) {
            track.set_muted(true);
            lock(&self.inner.stopped).insert(kind, track);
        }
        Ok(())
    }

    async fn set_muted(&self, kind: TrackKind, muted: bool) -> Result<()> {
        match lock(&self.inner.published).get(&kind) {
            Some(track) => {
                track.set_muted(muted);
                Ok(())
            }
            None => Err(SdkError::InvalidRequest(format!("no {kind} track is published"))),
        }
    }

    async fn restart_ice(&self) -> Result<()> {
        self.pc()?.restart_ice().await.map_err(media_error)
    }

    fn remote_track_changed(&self, mid: &str, track: Option<&RemoteTrack>) {
        let line = lock(&self.inner.lines).get(mid).cloned();
        let mut received = lock(&self.inner.received);
        received.retain(|t| t.mid() != mid);
        let now = track.map(|t| ReceivedTrack::new(t.clone()));
        if let Some(line) = line {
            *lock(&line) = now.as_ref().map(ReceivedTrack::sink);
        }
        received.extend(now);
    }

    async fn close(&self) {
        let pc = lock(&self.inner.pc).take();
        if let Some(pc) = pc
            && let Err(e) = pc.close().await
        {
            tracing::debug!(error = %e, "closing the call's connection");
        }
        lock(&self.inner.published).clear();
        lock(&self.inner.stopped).clear();
        lock(&self.inner.received).clear();
        lock(&self.inner.lines).clear();
    }
}
