//! The call's media on the `webrtc` crate: the peer connection, the tracks this client
//! publishes (fed with encoded samples the app gives) and the tracks it receives
//! (counted, and readable packet by packet).

use super::keyframes::{KeyframeRequests, is_keyframe_request};
use crate::error::{Result, SdkError};
use bytes::Bytes;
use chatter_core::ParticipantId;
use chatter_core::protocol::{IceServer, TrackKind};
use rtc::interceptor::Slot;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp::extension::audio_level_extension::AudioLevelExtension;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use rtc::sdp::extmap::AUDIO_LEVEL_URI;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceServer, RTCPeerConnectionIceEvent, RTCPeerConnectionState, Registry, register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;

/// What the peer connection reports to the call task.
pub(crate) enum MediaEvent {
    /// A local candidate to trickle to the server.
    Candidate(rtc::peer_connection::transport::RTCIceCandidateInit),
    /// The connection's state changed.
    State(RTCPeerConnectionState),
    /// A remote track arrived.
    Track(Arc<dyn TrackRemote>),
}

struct Handler(mpsc::UnboundedSender<MediaEvent>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => {
                let _ = self.0.send(MediaEvent::Candidate(init));
            }
            Err(e) => tracing::debug!(error = %e, "local candidate not sent"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.0.send(MediaEvent::State(state));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.0.send(MediaEvent::Track(track));
    }
}

pub(crate) fn media_error(e: impl std::fmt::Display) -> SdkError {
    SdkError::Media(e.to_string())
}

/// A peer connection for a call, reporting to `events`.
pub(crate) async fn peer_connection(
    ice_servers: &[IceServer],
    udp_addrs: Vec<String>,
    events: mpsc::UnboundedSender<MediaEvent>,
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
        .with_handler(Arc::new(Handler(events)))
        .with_udp_addrs(udp_addrs)
        .build()
        .await
        .map_err(media_error)?;
    Ok(Arc::new(pc))
}

fn codec(kind: TrackKind) -> RTCRtpCodec {
    match kind {
        TrackKind::Audio => RTCRtpCodec {
            mime_type: MIME_TYPE_OPUS.to_owned(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
            rtcp_feedback: vec![],
        },
        TrackKind::Video | TrackKind::Screen => RTCRtpCodec {
            mime_type: MIME_TYPE_VP8.to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
    }
}

/// A track this client publishes: the app writes encoded media into it (Opus for the
/// microphone, VP8 for camera and screen). Cheap to clone.
///
/// ```no_run
/// # async fn demo(call: chatter_sdk::call::Call) -> chatter_sdk::Result<()> {
/// use std::time::Duration;
/// if let Some(mic) = call.set_microphone_enabled(true).await? {
///     let opus_frame = bytes::Bytes::from_static(&[0xfc; 80]);
///     mic.write_sample(opus_frame, Duration::from_millis(20)).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LocalTrack {
    pub(crate) kind: TrackKind,
    pub(crate) track: Arc<TrackLocalStaticSample>,
    pub(crate) sender: Arc<dyn RtpSender>,
    ssrc: u32,
    muted: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    keyframes: Arc<KeyframeSignal>,
}

/// Keyframe requests received for a track.
#[derive(Debug, Default)]
struct KeyframeSignal {
    count: AtomicU64,
    notify: tokio::sync::Notify,
}

impl std::fmt::Debug for LocalTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTrack").field("kind", &self.kind).field("ssrc", &self.ssrc).finish()
    }
}

impl LocalTrack {
    /// Adds a track of `kind` to the connection (the caller renegotiates).
    pub(crate) async fn add(pc: &Arc<dyn PeerConnection>, kind: TrackKind, ssrc: u32) -> Result<Self> {
        let rtp_kind = if kind.is_video() { RtpCodecKind::Video } else { RtpCodecKind::Audio };
        let encoding = RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec: codec(kind),
            ..Default::default()
        };
        let stream = MediaStreamTrack::new(
            "chatter".to_owned(),
            format!("chatter-{kind}"),
            format!("chatter {kind}"),
            rtp_kind,
            vec![encoding],
        );
        let track = Arc::new(TrackLocalStaticSample::new(Instant::now(), stream).map_err(media_error)?);
        // A transceiver of its own: `add_track` would reuse one the server sends others'
        // tracks on.
        let init = RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Sendonly, ..Default::default() };
        let transceiver = pc
            .add_transceiver_from_track(track.clone() as Arc<dyn TrackLocal>, Some(init))
            .await
            .map_err(media_error)?;
        let sender = transceiver
            .sender()
            .await
            .map_err(media_error)?
            .ok_or_else(|| media_error("a transceiver without a sender"))?;
        let keyframes = Arc::new(KeyframeSignal::default());
        let (events, signal) = (track.clone(), keyframes.clone());
        tokio::spawn(async move {
            while let Some(event) = events.poll().await {
                let TrackLocalEvent::OnRtcpPacket(packets) = event else { continue };
                if packets.iter().any(|p| is_keyframe_request(p.as_ref())) {
                    signal.count.fetch_add(1, Ordering::Relaxed);
                    signal.notify.notify_one();
                }
            }
        });
        Ok(Self { kind, track, sender, ssrc, muted: Arc::default(), written: Arc::default(), keyframes })
    }

    /// What the track carries.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::LocalTrack) {
    /// println!("publishing {}", track.kind());
    /// # }
    /// ```
    pub fn kind(&self) -> TrackKind {
        self.kind
    }

    /// The RTP SSRC it is sent under: the same for as long as the track lives, also
    /// when it is stopped and sent again (which reuses it).
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::LocalTrack) {
    /// println!("sending as SSRC {}", track.ssrc());
    /// # }
    /// ```
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Sends one encoded frame lasting `duration`. While the track is muted, or before
    /// the connection has negotiated it, the frame is dropped (`Ok`).
    ///
    /// ```no_run
    /// # async fn demo(track: chatter_sdk::call::LocalTrack) -> chatter_sdk::Result<()> {
    /// track.write_sample(bytes::Bytes::from_static(&[0xfc; 80]), std::time::Duration::from_millis(20)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn write_sample(&self, data: Bytes, duration: Duration) -> Result<()> {
        self.write(data, duration, None).await
    }

    /// Sends one encoded audio frame with its loudness in -dBov (0 is the loudest, 127
    /// silence; RFC 6464), from which the server tells who is speaking.
    ///
    /// ```no_run
    /// # async fn demo(mic: chatter_sdk::call::LocalTrack) -> chatter_sdk::Result<()> {
    /// let frame = bytes::Bytes::from_static(&[0xfc; 80]);
    /// mic.write_audio_sample(frame, std::time::Duration::from_millis(20), 30).await?;
    /// # Ok(()) }
    /// ```
    pub async fn write_audio_sample(&self, data: Bytes, duration: Duration, level_dbov: u8) -> Result<()> {
        self.write(data, duration, Some(level_dbov.min(127))).await
    }

    async fn write(&self, data: Bytes, duration: Duration, level: Option<u8>) -> Result<()> {
        if self.muted.load(Ordering::Relaxed) {
            return Ok(());
        }
        let parameters = self.sender.get_parameters().await.map_err(media_error)?;
        let Some(pt) = parameters.rtp_parameters.codecs.first().map(|c| c.payload_type) else {
            return Ok(());
        };
        let sample = Sample { data, duration, ..Sample::new(Instant::now()) };
        let mut writer = self.track.sample_writer(self.ssrc, pt);
        if let Some(level) = level {
            writer = writer.with_audio_level(AudioLevelExtension { level, voice: level < 127 });
        }
        writer.write_sample(&sample).await.map_err(media_error)?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Keyframe requests (PLI or FIR) received so far: a receiver lost the picture, and
    /// the encoder should send a keyframe next.
    ///
    /// ```no_run
    /// # fn demo(camera: chatter_sdk::call::LocalTrack) { println!("{}", camera.keyframe_requests()); }
    /// ```
    pub fn keyframe_requests(&self) -> u64 {
        self.keyframes.count.load(Ordering::Relaxed)
    }

    /// Waits for the next keyframe request (one that came while nobody waited is kept).
    ///
    /// ```no_run
    /// # async fn demo(camera: chatter_sdk::call::LocalTrack) {
    /// loop {
    ///     camera.keyframe_requested().await;
    ///     // ask the encoder for a keyframe
    /// }
    /// # }
    /// ```
    pub async fn keyframe_requested(&self) {
        self.keyframes.notify.notified().await;
    }

    /// Frames handed to the connection so far (not counting dropped ones).
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::LocalTrack) {
    /// println!("{} frames sent", track.samples_written());
    /// # }
    /// ```
    pub fn samples_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    pub(crate) fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }
}

/// A track another participant publishes, as this client receives it. Cheap to clone.
///
/// ```no_run
/// # async fn demo(track: chatter_sdk::call::RemoteTrack) {
/// println!("{} from {}: {} packets", track.kind(), track.participant_id(), track.packets_received());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RemoteTrack {
    participant_id: ParticipantId,
    track_id: String,
    kind: TrackKind,
    mid: String,
    sink: Arc<Sink>,
    payloads: Arc<tokio::sync::Mutex<mpsc::Receiver<Bytes>>>,
}

/// Payloads kept for an app that reads them; beyond this they are only counted.
const PAYLOADS_KEPT: usize = 256;

/// Where the packets of one receiving line go: the track the line carries now.
#[derive(Debug)]
pub(crate) struct Sink {
    packets: AtomicU64,
    bytes: AtomicU64,
    payloads: mpsc::Sender<Bytes>,
    sequence: Mutex<Sequence>,
}

/// Which RTP sequence numbers arrived: the span from the first to the newest, and how
/// many distinct ones within it (a retransmission that fills a hole counts; a
/// duplicate does not).
#[derive(Debug, Default)]
struct Sequence {
    first: Option<u64>,
    newest: u64,
    distinct: u64,
    /// Bit i: `newest - i` arrived.
    recent: u128,
}

impl Sequence {
    fn add(&mut self, seq: u16) {
        let Some(first) = self.first else {
            let start = 1 << 16 | u64::from(seq);
            (self.first, self.newest, self.distinct, self.recent) = (Some(start), start, 1, 1);
            return;
        };
        let _ = first;
        // Extend the 16-bit number to the value nearest the newest.
        let base = self.newest & !0xffff;
        let candidates = [base.wrapping_sub(1 << 16), base, base + (1 << 16)];
        let seq = candidates
            .iter()
            .map(|b| b | u64::from(seq))
            .min_by_key(|v| v.abs_diff(self.newest))
            .unwrap_or(self.newest);
        if seq > self.newest {
            let ahead = seq - self.newest;
            self.recent = if ahead >= 128 { 0 } else { self.recent << ahead };
            self.recent |= 1;
            self.newest = seq;
            self.distinct += 1;
        } else {
            let behind = self.newest - seq;
            if behind < 128 && self.recent & (1 << behind) == 0 {
                self.recent |= 1 << behind;
                self.distinct += 1;
            }
        }
    }

    fn lost(&self) -> u64 {
        self.first.map_or(0, |first| (self.newest - first + 1).saturating_sub(self.distinct))
    }
}

/// One receiving line (`mid`) of the connection: the server reuses a line for the next
/// track of its kind, so packets go to whichever track the line carries now.
pub(crate) type Line = Arc<Mutex<Option<Arc<Sink>>>>;

/// Reads `track`'s packets into `line` until the connection closes.
pub(crate) fn read_into(track: Arc<dyn TrackRemote>, line: Line) {
    tokio::spawn(async move {
        while let Some(event) = track.poll().await {
            if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                let sink = line.lock().unwrap_or_else(|e| e.into_inner()).clone();
                if let Some(sink) = sink {
                    sink.packets.fetch_add(1, Ordering::Relaxed);
                    sink.sequence.lock().unwrap_or_else(|e| e.into_inner()).add(packet.header.sequence_number);
                    sink.bytes.fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
                    let _ = sink.payloads.try_send(packet.payload);
                }
            }
        }
    });
}

impl RemoteTrack {
    /// A track arriving on line `mid`, whose packets are counted from now on.
    pub(crate) fn new(participant_id: ParticipantId, track_id: String, kind: TrackKind, mid: String) -> Self {
        let (tx, rx) = mpsc::channel(PAYLOADS_KEPT);
        let sink = Arc::new(Sink {
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            payloads: tx,
            sequence: Mutex::default(),
        });
        Self { participant_id, track_id, kind, mid, sink, payloads: Arc::new(tokio::sync::Mutex::new(rx)) }
    }

    pub(crate) fn sink(&self) -> Arc<Sink> {
        self.sink.clone()
    }

    pub(crate) fn mid(&self) -> &str {
        &self.mid
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

    /// RTP packets received so far.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::RemoteTrack) { let _ = track.packets_received(); }
    /// ```
    pub fn packets_received(&self) -> u64 {
        self.sink.packets.load(Ordering::Relaxed)
    }

    /// Packets never received: holes in the sequence numbers so far, after repairs by
    /// retransmission (a packet that comes late still counts as received).
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::RemoteTrack) { let _ = track.packets_lost(); }
    /// ```
    pub fn packets_lost(&self) -> u64 {
        self.sink.sequence.lock().unwrap_or_else(|e| e.into_inner()).lost()
    }

    /// Payload bytes received so far.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::RemoteTrack) { let _ = track.bytes_received(); }
    /// ```
    pub fn bytes_received(&self) -> u64 {
        self.sink.bytes.load(Ordering::Relaxed)
    }

    /// The next RTP payload (the newest 256 are kept for a reader). It waits while
    /// nothing arrives: stop reading when [`CallUpdate::TrackUnsubscribed`](super::CallUpdate)
    /// names the track.
    ///
    /// ```no_run
    /// # async fn demo(track: chatter_sdk::call::RemoteTrack) {
    /// while let Some(payload) = track.next_payload().await {
    ///     println!("{} bytes", payload.len());
    /// }
    /// # }
    /// ```
    pub async fn next_payload(&self) -> Option<Bytes> {
        self.payloads.lock().await.recv().await
    }
}

/// The receiving line (`mid`) a remote track arrived on.
pub(crate) async fn mid_of(pc: &Arc<dyn PeerConnection>, track: &Arc<dyn TrackRemote>) -> Option<String> {
    for transceiver in pc.get_transceivers().await {
        let Ok(Some(receiver)) = transceiver.receiver().await else { continue };
        if std::ptr::addr_eq(Arc::as_ptr(receiver.track()), Arc::as_ptr(track)) {
            return transceiver.mid().await.ok().flatten();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::Sequence;

    #[test]
    fn holes_repairs_duplicates_and_wraparound() {
        let mut s = Sequence::default();
        for seq in [65_530u16, 65_531, 65_533, 65_535, 0, 1, 3] {
            s.add(seq);
        }
        assert_eq!(s.lost(), 3, "65532, 65534 and 2 are missing");
        s.add(65_532); // repaired late
        s.add(65_533); // a duplicate
        assert_eq!(s.lost(), 2);
        s.add(2);
        s.add(65_534);
        assert_eq!(s.lost(), 0);
    }
}
