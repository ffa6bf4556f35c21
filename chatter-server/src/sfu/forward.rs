//! Media from publishers to receivers, and keyframe requests the other way. Each
//! receiver's connection re-packetizes and encrypts for its own leg, retransmits on its
//! receiver's NACKs and asks its publisher again on loss, so video recovers on every leg.

use super::engine::Engine;
use super::peer::{OutState, PeerKey, TrackOut};
use std::time::Instant;
use str0m::media::{KeyframeRequest, KeyframeRequestKind, MediaData};

impl Engine {
    /// A publisher's media: to every other participant of its call receiving that track.
    pub(super) fn forward(&mut self, from: PeerKey, data: MediaData) {
        let now = Instant::now();
        let Some(peer) = self.peers.get_mut(&from) else { return };
        let Some(track) = peer.track_in(data.mid) else { return };
        let video = track.video;
        let chat_id = peer.chat_id.clone();
        // Only audio carries the level speaker detection reads.
        let speaking = if video { None } else { data.ext_vals.audio_level.map(|l| (peer.participant_id.clone(), l)) };
        if !data.contiguous {
            self.discontinuities += 1;
        }
        if video && !data.contiguous {
            // Frames were lost beyond what retransmission repaired: start over from a keyframe.
            self.ask_keyframe(from, data.mid, KeyframeRequestKind::Pli, false);
        }
        let Some(call) = self.calls.get_mut(&chat_id) else { return };
        if let Some((participant_id, level)) = speaking {
            call.speakers.observe(&participant_id, level, now);
        }
        for &key in &call.peers {
            if key == from {
                continue;
            }
            let Some(receiver) = self.peers.get_mut(&key) else { continue };
            let open = |o: &&mut TrackOut| {
                o.origin == from && o.origin_mid == data.mid && matches!(o.state, OutState::Open(_))
            };
            let Some(out) = receiver.outs.iter_mut().find(open) else { continue };
            let OutState::Open(mid) = out.state else { continue };
            let Some(writer) = receiver.rtc.writer(mid) else { continue };
            // The receiver's payload type for the publisher's, looked up once per pair.
            let pt = match out.pt {
                Some((theirs, ours)) if theirs == data.pt => ours,
                _ => {
                    let Some(ours) = writer.match_params(data.params) else { continue };
                    out.pt = Some((data.pt, ours));
                    ours
                }
            };
            match writer.write(pt, data.network_time, data.time, data.data.clone()) {
                Ok(()) => {
                    self.forwarded += 1;
                    self.dirty.mark(key);
                }
                Err(e) => {
                    // A payload type str0m has since given another codec: match again next time.
                    if matches!(e, str0m::RtcError::UnknownPt(_)) {
                        out.pt = None;
                    }
                    tracing::debug!(error = %e, "forward");
                }
            }
        }
    }

    /// A receiver lost video: its publisher sends a keyframe.
    pub(super) fn keyframe_request(&mut self, from: PeerKey, request: KeyframeRequest) {
        let Some(out) = self.peers.get(&from).and_then(|p| p.out_by_mid(request.mid)) else { return };
        let (origin, origin_mid) = (out.origin, out.origin_mid);
        self.ask_keyframe(origin, origin_mid, request.kind, false);
    }
}
