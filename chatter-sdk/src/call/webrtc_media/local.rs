//! The tracks this client publishes: the app writes encoded media into them (Opus for
//! the microphone, VP8 for camera and screen), and hears of the receivers' keyframe
//! requests.

use super::keyframes::is_keyframe_request;
use super::media_error;
use crate::error::Result;
use bytes::Bytes;
use chatter_core::protocol::TrackKind;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp::extension::audio_level_extension::AudioLevelExtension;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::PeerConnection;
use webrtc::rtp_transceiver::RtpSender;

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
/// # async fn demo(call: chatter_sdk::call::Call, media: chatter_sdk::call::webrtc_media::WebrtcMedia) -> chatter_sdk::Result<()> {
/// use std::time::Duration;
/// call.set_microphone_enabled(true).await?;
/// if let Some(mic) = media.local_track(chatter_sdk::protocol::TrackKind::Audio) {
///     let opus_frame = bytes::Bytes::from_static(&[0xfc; 80]);
///     mic.write_sample(opus_frame, Duration::from_millis(20)).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LocalTrack {
    kind: TrackKind,
    track: Arc<TrackLocalStaticSample>,
    sender: Arc<dyn RtpSender>,
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
    pub(super) async fn add(pc: &Arc<dyn PeerConnection>, kind: TrackKind, ssrc: u32) -> Result<Self> {
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
    /// # fn demo(track: chatter_sdk::call::webrtc_media::LocalTrack) {
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
    /// # fn demo(track: chatter_sdk::call::webrtc_media::LocalTrack) {
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
    /// # async fn demo(track: chatter_sdk::call::webrtc_media::LocalTrack) -> chatter_sdk::Result<()> {
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
    /// # async fn demo(mic: chatter_sdk::call::webrtc_media::LocalTrack) -> chatter_sdk::Result<()> {
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
    /// # fn demo(camera: chatter_sdk::call::webrtc_media::LocalTrack) { println!("{}", camera.keyframe_requests()); }
    /// ```
    pub fn keyframe_requests(&self) -> u64 {
        self.keyframes.count.load(Ordering::Relaxed)
    }

    /// Waits for the next keyframe request (one that came while nobody waited is kept).
    ///
    /// ```no_run
    /// # async fn demo(camera: chatter_sdk::call::webrtc_media::LocalTrack) {
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
    /// # fn demo(track: chatter_sdk::call::webrtc_media::LocalTrack) {
    /// println!("{} frames sent", track.samples_written());
    /// # }
    /// ```
    pub fn samples_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    pub(super) fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }
}
