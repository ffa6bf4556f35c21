//! One participant's peer connection: the str0m `Rtc`, the tracks it publishes, the
//! tracks of others it receives, and the server's side of negotiating them. The client
//! makes the first offer; afterwards the server offers others' tracks as they come and
//! go. The server is the impolite peer: a client offer that crosses one of its own is
//! ignored, and the client rolls back and answers (API.md "Calls").
//!
//! A line that stops carrying a track stays as it is, idle, and carries the next track
//! of its kind without a renegotiation: str0m never reuses a stopped line's slot (stopping
//! lines would grow the SDP by one line per track that ever came and went, past the
//! WebSocket's frame limit in a long call), and an inactive line would stop the
//! receiver's transceiver for good (webrtc-rs does). Receivers learn which track a line
//! carries from `call.track`, sent before the first packet of the new track.

use super::SfuError;
use chatter_core::protocol::{Participant, Track, TrackKind};
use chatter_core::{ChatId, ParticipantId, SessionId};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::time::Instant;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid, Pt};
use str0m::{Candidate, Rtc};

/// A peer connection's key in the engine.
pub type PeerKey = u64;

/// A map keyed by [`PeerKey`]. Keys are the engine's own counter, not input from
/// outside, so they need no DoS-resistant hashing: SipHash was a few percent of the
/// engine's time, looked up per receiver of every forwarded packet.
pub type PeerMap<V> = HashMap<PeerKey, V, BuildHasherDefault<KeyHasher>>;
/// A set of [`PeerKey`]s, hashed as in [`PeerMap`].
pub type PeerSet = HashSet<PeerKey, BuildHasherDefault<KeyHasher>>;

/// Fibonacci hashing of a counter: one multiplication spreads consecutive keys.
#[derive(Debug, Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A track this participant publishes.
#[derive(Debug)]
pub struct TrackIn {
    /// Its media line on this connection.
    pub mid: Mid,
    /// The call-wide track id.
    pub track_id: String,
    /// Audio or video.
    pub video: bool,
    /// When a keyframe was last asked of the publisher.
    pub keyframe_asked: Option<Instant>,
}

/// Where a forwarded track stands in this connection's negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutState {
    /// To be offered.
    ToOpen,
    /// Offered under this mid, answer awaited.
    Negotiating(Mid),
    /// Flowing.
    Open(Mid),
    /// The track is gone while its line is being offered: the line is free once the
    /// answer comes.
    Gone(Mid),
}

/// Another participant's track, forwarded to this one.
#[derive(Debug)]
pub struct TrackOut {
    /// The publisher's connection.
    pub origin: PeerKey,
    /// The publisher's media line.
    pub origin_mid: Mid,
    /// The publisher.
    pub participant_id: ParticipantId,
    /// The track as the publisher has it (its mid is the publisher's).
    pub track: Track,
    /// Negotiation state on this connection.
    pub state: OutState,
    /// The publisher's payload type and this connection's for it, once matched.
    pub pt: Option<(Pt, Pt)>,
}

impl TrackOut {
    /// The track as this receiver sees it: under this connection's mid.
    pub fn seen(&self) -> Track {
        let mid = match self.state {
            OutState::ToOpen => None,
            OutState::Negotiating(m) | OutState::Open(m) | OutState::Gone(m) => Some(m.to_string()),
        };
        Track { mid, ..self.track.clone() }
    }
}

/// One participant's connection.
#[derive(Debug)]
pub struct Peer {
    pub key: PeerKey,
    pub chat_id: ChatId,
    pub participant_id: ParticipantId,
    pub session_id: SessionId,
    pub rtc: Rtc,
    pub ins: Vec<TrackIn>,
    /// Lines the client stopped publishing on with `call.publish {enabled: false}`
    /// (still negotiated, their media ignored), and the kind each carried: the next
    /// track of that kind it announces goes out on it at once.
    pub paused: Vec<(Mid, TrackKind)>,
    pub outs: Vec<TrackOut>,
    /// Idle lines of ours (negotiated, sending nothing), free for the next track of
    /// their kind.
    free: Vec<(Mid, MediaKind)>,
    /// The server's offer awaiting the client's answer, its SDP, and when it was made.
    pending: Option<(SdpPendingOffer, String, Instant)>,
    /// When the pending offer was last sent.
    offer_sent: Instant,
    /// The client's first offer was answered: the server may offer from now on.
    pub answered: bool,
    /// When the participant joined.
    pub joined: Instant,
    /// ICE connected at least once.
    pub connected: bool,
    /// When the engine must next give the connection time.
    pub wake: Instant,
    /// Remote addresses seen for this connection.
    pub addrs: Vec<SocketAddr>,
}

/// What a client's offer gets.
#[derive(Debug)]
pub enum Offered {
    /// The answer.
    Answer(String),
    /// It crossed the server's own offer, which the client answers.
    Ignored,
    /// It crossed the server's own offer made long ago: this one, sent again.
    Crossed(String),
}

/// A server offer unanswered this long when the client offers was probably lost.
const OFFER_LOST_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

/// The outcome of a client's answer.
#[derive(Debug, Default)]
pub struct Answered {
    /// Video tracks that just started flowing: their publishers owe a keyframe.
    pub opened_video: Vec<(PeerKey, Mid)>,
}

impl Peer {
    /// A connection for a new participant, listening on the engine's socket.
    pub fn new(
        key: PeerKey,
        chat_id: ChatId,
        participant_id: ParticipantId,
        session_id: SessionId,
        candidate: SocketAddr,
        now: Instant,
    ) -> Result<Self, SfuError> {
        let mut rtc = Rtc::builder().set_ice_lite(true).build(now);
        let host = Candidate::host(candidate, "udp").map_err(|e| SfuError::Invalid(format!("candidate: {e}")))?;
        rtc.add_local_candidate(host);
        Ok(Self {
            key,
            chat_id,
            participant_id,
            session_id,
            rtc,
            ins: Vec::new(),
            paused: Vec::new(),
            outs: Vec::new(),
            free: Vec::new(),
            pending: None,
            offer_sent: now,
            answered: false,
            joined: now,
            connected: false,
            wake: now,
            addrs: Vec::new(),
        })
    }

    /// The client's offer: the SDP answer; nothing when it crosses an offer of ours
    /// (glare: the client yields and answers ours); or, when ours has waited so long that
    /// the client cannot have seen it (lost while its socket was away), ours again.
    pub fn accept_offer(&mut self, sdp: &str, now: Instant) -> Result<Offered, SfuError> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| SfuError::Invalid(format!("bad offer: {e}")))?;
        if let Some((_, ours, made)) = &self.pending {
            if now.duration_since(*made) < OFFER_LOST_AFTER {
                return Ok(Offered::Ignored);
            }
            self.offer_sent = now;
            return Ok(Offered::Crossed(ours.clone()));
        }
        let answer =
            self.rtc.sdp_api().accept_offer(offer).map_err(|e| SfuError::Invalid(format!("offer refused: {e}")))?;
        self.answered = true;
        Ok(Offered::Answer(answer.to_sdp_string()))
    }

    /// The client's answer to the server's offer.
    pub fn accept_answer(&mut self, sdp: &str) -> Result<Answered, SfuError> {
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| SfuError::Invalid(format!("bad answer: {e}")))?;
        let Some((pending, _, _)) = self.pending.take() else {
            return Err(SfuError::Invalid("no offer of the server awaits an answer".into()));
        };
        let accepted = self.rtc.sdp_api().accept_answer(pending, answer);
        let mut done = Answered::default();
        let mut freed = Vec::new();
        for out in &mut self.outs {
            out.state = match (out.state, accepted.is_ok()) {
                (OutState::Negotiating(m), true) => {
                    if out.track.kind.is_video() {
                        done.opened_video.push((out.origin, out.origin_mid));
                    }
                    OutState::Open(m)
                }
                (OutState::Gone(m), true) => {
                    freed.push((m, media_kind(out.track.kind)));
                    OutState::Gone(m)
                }
                // Refused: the lines were never added; offer the tracks again.
                (OutState::Negotiating(_), false) => OutState::ToOpen,
                (state, _) => state,
            };
        }
        self.outs.retain(|o| !matches!(o.state, OutState::Gone(_)));
        self.free.extend(freed);
        accepted.map_err(|e| SfuError::Invalid(format!("answer refused: {e}")))?;
        Ok(done)
    }

    /// A trickled candidate of the client.
    pub fn add_candidate(&mut self, line: &str) -> Result<(), SfuError> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(()); // end of candidates
        }
        let line = line.strip_prefix("a=").unwrap_or(line);
        let candidate =
            Candidate::from_sdp_string(line).map_err(|e| SfuError::Invalid(format!("bad candidate: {e}")))?;
        self.rtc.add_remote_candidate(candidate);
        Ok(())
    }

    /// Starts forwarding another participant's track here: at once on an idle line of
    /// its kind (the track as seen here is answered, to announce before its packets),
    /// else at the next offer.
    pub fn open(
        &mut self,
        origin: PeerKey,
        origin_mid: Mid,
        participant_id: ParticipantId,
        track: Track,
    ) -> Option<Track> {
        let live = |o: &TrackOut| matches!(o.state, OutState::ToOpen | OutState::Negotiating(_) | OutState::Open(_));
        if self.outs.iter().any(|o| o.origin == origin && o.origin_mid == origin_mid && live(o)) {
            return None;
        }
        let kind = media_kind(track.kind);
        let idle = self.free.iter().position(|(_, k)| *k == kind).map(|at| self.free.remove(at).0);
        let state = idle.map_or(OutState::ToOpen, OutState::Open);
        let out = TrackOut { origin, origin_mid, participant_id, track, state, pt: None };
        let seen = idle.map(|_| out.seen());
        self.outs.push(out);
        seen
    }

    /// Stops forwarding a track (or every track of `origin` when `mid` is `None`); its
    /// line goes idle.
    pub fn close(&mut self, origin: PeerKey, mid: Option<Mid>) {
        let mut freed = Vec::new();
        self.outs.retain_mut(|o| {
            if o.origin != origin || mid.is_some_and(|m| m != o.origin_mid) {
                return true;
            }
            match o.state {
                OutState::ToOpen => false,
                OutState::Open(m) => {
                    freed.push((m, media_kind(o.track.kind)));
                    false
                }
                OutState::Negotiating(m) => {
                    o.state = OutState::Gone(m);
                    true
                }
                OutState::Gone(_) => true,
            }
        });
        self.free.extend(freed);
    }

    /// Whether a server offer may go out now and has something to say.
    pub fn wants_offer(&self) -> bool {
        self.answered && self.pending.is_none() && self.outs.iter().any(|o| o.state == OutState::ToOpen)
    }

    /// Makes the server's offer: the SDP and the tracks it newly offers, under this
    /// connection's mids.
    pub fn offer(&mut self) -> Option<(String, Vec<(ParticipantId, Track)>)> {
        if !self.wants_offer() {
            return None;
        }
        let mut api = self.rtc.sdp_api();
        let mut offered = Vec::new();
        for out in &mut self.outs {
            if out.state == OutState::ToOpen {
                let stream = Some(out.participant_id.to_string());
                let track_id = Some(out.track.track_id.clone());
                let mid = api.add_media(media_kind(out.track.kind), Direction::SendOnly, stream, track_id, None);
                out.state = OutState::Negotiating(mid);
                offered.push((out.participant_id.clone(), out.seen()));
            }
        }
        let (offer, pending) = api.apply()?;
        tracing::debug!(participant = %self.participant_id, opened = offered.len(), "server offer");
        let sdp = offer.to_sdp_string();
        self.offer_sent = Instant::now();
        self.pending = Some((pending, sdp.clone(), self.offer_sent));
        Some((sdp, offered))
    }

    /// The pending offer again, when it has waited long enough to count as lost (sent
    /// while the client's socket was away, or dropped on the way); at most once per
    /// that wait.
    pub fn offer_to_resend(&mut self, now: Instant) -> Option<(String, Vec<(ParticipantId, Track)>)> {
        let (_, sdp, _) = self.pending.as_ref()?;
        if now.duration_since(self.offer_sent) < OFFER_LOST_AFTER {
            return None;
        }
        self.offer_sent = now;
        // The tracks it offers are said again with it: their `call.track` went the same way.
        let offered = self
            .outs
            .iter()
            .filter(|o| matches!(o.state, OutState::Negotiating(_)))
            .map(|o| (o.participant_id.clone(), o.seen()))
            .collect();
        Some((sdp.clone(), offered))
    }

    /// Rewrites the others' tracks in `participants` as this receiver has them: under
    /// the mid of its connection, or none while not on it yet.
    pub fn as_seen(&self, participants: &mut [Participant]) {
        for participant in participants.iter_mut().filter(|p| p.participant_id != self.participant_id) {
            for track in &mut participant.tracks {
                let out = self.outs.iter().find(|o| {
                    o.participant_id == participant.participant_id
                        && o.track.track_id == track.track_id
                        && !matches!(o.state, OutState::Gone(_))
                });
                track.mid = out.and_then(|o| o.seen().mid);
            }
        }
    }

    /// Whether `mid` is one of the server's own lines (sending others' tracks, or free).
    pub fn owns_line(&self, mid: Mid) -> bool {
        self.free.iter().any(|(m, _)| *m == mid)
            || self.outs.iter().any(|o| match o.state {
                OutState::ToOpen => false,
                OutState::Negotiating(m) | OutState::Open(m) | OutState::Gone(m) => m == mid,
            })
    }

    /// The track published on `mid`, if this participant publishes there.
    pub fn track_in(&mut self, mid: Mid) -> Option<&mut TrackIn> {
        self.ins.iter_mut().find(|t| t.mid == mid)
    }

    /// The forwarded track on this connection's `mid`.
    pub fn out_by_mid(&self, mid: Mid) -> Option<&TrackOut> {
        self.outs.iter().find(|o| matches!(o.state, OutState::Open(m) | OutState::Negotiating(m) if m == mid))
    }

    /// Sets the mute state of forwarded `track_id`: the track as seen here, if present.
    pub fn set_muted(&mut self, track_id: &str, muted: bool) -> Option<Track> {
        let out = self.outs.iter_mut().find(|o| o.track.track_id == track_id)?;
        out.track.muted = muted;
        Some(out.seen())
    }
}

/// How a track travels.
pub(super) fn media_kind(kind: TrackKind) -> MediaKind {
    if kind.is_video() { MediaKind::Video } else { MediaKind::Audio }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A client's first offer: one receive-only audio line, as a listener's.
    fn client_offer(now: Instant) -> String {
        let mut client = Rtc::builder().build(now);
        let addr: SocketAddr = "127.0.0.2:5000".parse().unwrap();
        client.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let mut api = client.sdp_api();
        api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
        let (offer, _) = api.apply().unwrap();
        offer.to_sdp_string()
    }

    #[test]
    fn an_unanswered_server_offer_is_sent_again_with_its_tracks_after_the_wait() {
        let now = Instant::now();
        let server: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let mut peer =
            Peer::new(1, ChatId::new("c"), ParticipantId::new("p"), SessionId::new("s"), server, now).unwrap();
        assert!(matches!(peer.accept_offer(&client_offer(now), now).unwrap(), Offered::Answer(_)));
        assert_eq!(peer.offer_to_resend(now + Duration::from_secs(10)), None, "nothing pending");
        let track = Track { track_id: "t".into(), kind: TrackKind::Audio, mid: None, muted: false };
        peer.open(2, Mid::from("0"), ParticipantId::new("q"), track.clone());
        let mut others =
            vec![Participant { participant_id: ParticipantId::new("q"), user_id: "u".into(), tracks: vec![track] }];
        peer.as_seen(&mut others);
        assert_eq!(others[0].tracks[0].mid, None, "not on this connection yet");
        let (sdp, offered) = peer.offer().unwrap();
        assert_eq!(offered.len(), 1);
        peer.as_seen(&mut others);
        assert_eq!(others[0].tracks[0].mid, offered[0].1.mid, "under this connection's mid, as call.track said");
        assert!(others[0].tracks[0].mid.is_some());
        let sent = peer.offer_sent;
        assert_eq!(peer.offer_to_resend(sent + Duration::from_secs(1)), None, "too soon");
        assert_eq!(peer.offer_to_resend(sent + OFFER_LOST_AFTER), Some((sdp, offered)), "with its track");
        assert_eq!(peer.offer_to_resend(sent + OFFER_LOST_AFTER + Duration::from_secs(1)), None, "once per wait");
        assert!(peer.offer_to_resend(sent + OFFER_LOST_AFTER * 2).is_some(), "and again after another wait");
    }
}
