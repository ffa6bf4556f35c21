//! The tracks this client receives: each line's packets counted into the track the line
//! carries now, and kept for an app that reads them.

use crate::call::RemoteTrack;
use bytes::Bytes;
use chatter_core::ParticipantId;
use chatter_core::protocol::TrackKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

/// A track another participant publishes, as this client receives it: counted, and
/// readable packet by packet. Cheap to clone.
///
/// ```no_run
/// # async fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) {
/// println!("{} from {}: {} packets", track.kind(), track.participant_id(), track.packets_received());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ReceivedTrack {
    track: RemoteTrack,
    sink: Arc<Sink>,
    payloads: Arc<tokio::sync::Mutex<mpsc::Receiver<Bytes>>>,
}

/// Payloads kept for an app that reads them; beyond this they are only counted.
const PAYLOADS_KEPT: usize = 256;

/// Where the packets of one receiving line go: the track the line carries now.
#[derive(Debug)]
pub(super) struct Sink {
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
pub(super) type Line = Arc<Mutex<Option<Arc<Sink>>>>;

/// Reads `track`'s packets into `line` until the connection closes.
pub(super) fn read_into(track: Arc<dyn TrackRemote>, line: Line) {
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

impl ReceivedTrack {
    /// `track`, whose packets are counted from now on.
    pub(super) fn new(track: RemoteTrack) -> Self {
        let (tx, rx) = mpsc::channel(PAYLOADS_KEPT);
        let sink = Arc::new(Sink {
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            payloads: tx,
            sequence: Mutex::default(),
        });
        Self { track, sink, payloads: Arc::new(tokio::sync::Mutex::new(rx)) }
    }

    pub(super) fn sink(&self) -> Arc<Sink> {
        self.sink.clone()
    }

    /// The track as the call knows it.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) { let _ = track.track(); }
    /// ```
    pub fn track(&self) -> &RemoteTrack {
        &self.track
    }

    /// The receiving line it arrives on.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) { let _ = track.mid(); }
    /// ```
    pub fn mid(&self) -> &str {
        self.track.mid()
    }

    /// Whose track it is.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) { let _ = track.participant_id(); }
    /// ```
    pub fn participant_id(&self) -> &ParticipantId {
        self.track.participant_id()
    }

    /// The call-wide track id.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) { let _ = track.track_id(); }
    /// ```
    pub fn track_id(&self) -> &str {
        self.track.track_id()
    }

    /// What it carries.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) { let _ = track.kind(); }
    /// ```
    pub fn kind(&self) -> TrackKind {
        self.track.kind()
    }

    /// RTP packets received so far.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) { let _ = track.packets_received(); }
    /// ```
    pub fn packets_received(&self) -> u64 {
        self.sink.packets.load(Ordering::Relaxed)
    }

    /// Packets never received: holes in the sequence numbers so far, after repairs by
    /// retransmission (a packet that comes late still counts as received).
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) { let _ = track.packets_lost(); }
    /// ```
    pub fn packets_lost(&self) -> u64 {
        self.sink.sequence.lock().unwrap_or_else(|e| e.into_inner()).lost()
    }

    /// Payload bytes received so far.
    ///
    /// ```no_run
    /// # fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) { let _ = track.bytes_received(); }
    /// ```
    pub fn bytes_received(&self) -> u64 {
        self.sink.bytes.load(Ordering::Relaxed)
    }

    /// The next RTP payload (the newest 256 are kept for a reader). It waits while
    /// nothing arrives: stop reading when [`CallUpdate::TrackUnsubscribed`](crate::call::CallUpdate)
    /// names the track.
    ///
    /// ```no_run
    /// # async fn demo(track: chatter_sdk::call::webrtc_media::ReceivedTrack) {
    /// while let Some(payload) = track.next_payload().await {
    ///     println!("{} bytes", payload.len());
    /// }
    /// # }
    /// ```
    pub async fn next_payload(&self) -> Option<Bytes> {
        self.payloads.lock().await.recv().await
    }
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
