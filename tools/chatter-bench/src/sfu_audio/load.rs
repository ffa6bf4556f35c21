//! The media side of the load: one task owning the shared UDP socket and every
//! participant's str0m `Rtc` (full ICE, the offering and controlling side), as the SFU
//! owns its own. Publishers send 50 packets/s of Opus-sized audio, each packet stamped
//! with the step it belongs to, its publisher, sequence number and send time; every
//! receipt is counted against the step in its stamp.

use super::udp::SharedSocket;
use crate::histogram::Histogram;
use crate::receive::now_micros;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::sync::{mpsc, oneshot};

/// Audio packets per second per publisher (20 ms Opus frames).
pub const PACKETS_PER_SECOND: u32 = 50;
const FRAME: Duration = Duration::from_millis(20);
/// RTP ticks per 20 ms at 48 kHz.
const FRAME_TICKS: u64 = 960;
/// A stamp's step when no step is being measured.
const NO_STEP: u32 = u32::MAX;
/// Datagrams read in one go before other work gets a turn.
const READ_BURST: usize = 1024;

/// What the signalling side asks of the load.
#[derive(Debug)]
pub enum Command {
    /// A new participant: its first offer (with one audio line, sending if it
    /// publishes, else receiving) and its index.
    Add { publish: bool, reply: oneshot::Sender<Result<(usize, String), String>> },
    /// The SFU's answer to a participant's offer.
    Answer { member: usize, sdp: String, reply: oneshot::Sender<Result<(), String>> },
    /// The SFU's offer to a participant: its answer.
    Offer { member: usize, sdp: String, reply: oneshot::Sender<Result<String, String>> },
    /// Stamps packets from now on as sent in `step` (`None`: between steps).
    Step(Option<u32>),
    /// The counts so far.
    Report(oneshot::Sender<Report>),
}

/// What the load has seen.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Participants whose ICE and DTLS connected.
    pub connected: usize,
    /// Participants receiving from every publisher (but themselves).
    pub ready: usize,
    /// Participants.
    pub members: usize,
    /// Per step: packets sent, and packets received (of those stamped with the step).
    pub steps: Vec<(u64, u64)>,
    /// Packets a full socket buffer dropped on the way out.
    pub send_dropped: u64,
}

/// A handle to the load task.
#[derive(Debug, Clone)]
pub struct Load {
    commands: mpsc::UnboundedSender<Command>,
    /// Per step: send-to-receive latency.
    pub latency: Arc<Vec<Histogram>>,
}

impl Load {
    /// Starts the load task on a new shared socket, for up to `steps` steps. With
    /// `in_phase`, every publisher sends at the same instant of each 20 ms frame; else
    /// their sends are spread evenly over it, as independent clients' are.
    pub fn start(steps: usize, in_phase: bool) -> std::io::Result<Self> {
        let socket = SharedSocket::bind()?;
        let (commands, inbox) = mpsc::unbounded_channel();
        let latency: Arc<Vec<Histogram>> = Arc::new((0..steps).map(|_| Histogram::new()).collect());
        let engine = Engine {
            socket,
            members: Vec::new(),
            by_local: HashMap::new(),
            wakes: BinaryHeap::new(),
            dirty: VecDeque::new(),
            queued: HashSet::new(),
            step: None,
            counts: vec![(0, 0); steps],
            latency: latency.clone(),
            send_dropped: 0,
            next_slot: Instant::now() + FRAME,
            slot: 0,
            in_phase,
            publishers: 0,
        };
        tokio::spawn(engine.run(inbox));
        Ok(Self { commands, latency })
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).map_err(|_| "the load stopped".to_owned())?;
        rx.await.map_err(|_| "the load stopped".to_owned())
    }

    /// Adds a participant: its index and first offer.
    pub async fn add(&self, publish: bool) -> Result<(usize, String), String> {
        self.ask(|reply| Command::Add { publish, reply }).await?
    }

    /// Gives participant `member` the SFU's answer.
    pub async fn answer(&self, member: usize, sdp: String) -> Result<(), String> {
        self.ask(|reply| Command::Answer { member, sdp, reply }).await?
    }

    /// Gives participant `member` the SFU's offer: its answer.
    pub async fn offer(&self, member: usize, sdp: String) -> Result<String, String> {
        self.ask(|reply| Command::Offer { member, sdp, reply }).await?
    }

    /// Stamps packets as sent in `step` from now on.
    pub fn set_step(&self, step: Option<u32>) {
        let _ = self.commands.send(Command::Step(step));
    }

    /// The counts so far.
    pub async fn report(&self) -> Result<Report, String> {
        self.ask(Command::Report).await
    }
}

/// One simulated participant.
struct Member {
    rtc: Rtc,
    local: SocketAddr,
    /// The line it publishes on, with its sequence number, if it publishes.
    publishing: Option<(Mid, u64)>,
    /// Its offer awaiting the SFU's answer.
    pending: Option<SdpPendingOffer>,
    /// Publishers it has received from.
    heard: HashSet<u32>,
    /// Its index among publishers.
    publisher: Option<u32>,
    wake: Instant,
}

struct Engine {
    socket: SharedSocket,
    members: Vec<Member>,
    by_local: HashMap<SocketAddr, usize>,
    wakes: BinaryHeap<Reverse<(Instant, usize)>>,
    dirty: VecDeque<usize>,
    queued: HashSet<usize>,
    step: Option<u32>,
    counts: Vec<(u64, u64)>,
    latency: Arc<Vec<Histogram>>,
    send_dropped: u64,
    /// When the next publishers send; each frame has one slot per publisher (or one
    /// for all, in phase).
    next_slot: Instant,
    /// Slots so far.
    slot: u64,
    in_phase: bool,
    publishers: u32,
}

impl Engine {
    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; 2048];
        let mut cmsg = SharedSocket::cmsg_buffer();
        loop {
            self.drive();
            let wake = self.next_wake().map_or(self.next_slot, |w| w.min(self.next_slot));
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(command) => self.command(command),
                    None => break,
                },
                ready = self.socket.readable() => {
                    if ready.is_err() {
                        break;
                    }
                    for _ in 0..READ_BURST {
                        match self.socket.try_recv(&mut buf, &mut cmsg) {
                            Ok(d) => self.receive(&buf[..d.len], d.source, d.destination),
                            Err(_) => break,
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
            let now = Instant::now();
            while now >= self.next_slot {
                self.publish(now);
            }
            self.timeouts(now);
        }
    }

    fn mark(&mut self, member: usize) {
        if self.queued.insert(member) {
            self.dirty.push_back(member);
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Add { publish, reply } => {
                let _ = reply.send(self.add(publish));
            }
            Command::Answer { member, sdp, reply } => {
                let result = self.members.get_mut(member).ok_or("no such member".to_owned()).and_then(|m| {
                    let answer = SdpAnswer::from_sdp_string(&sdp).map_err(|e| e.to_string())?;
                    let pending = m.pending.take().ok_or("no offer pending")?;
                    m.rtc.sdp_api().accept_answer(pending, answer).map_err(|e| e.to_string())
                });
                self.mark(member);
                let _ = reply.send(result);
            }
            Command::Offer { member, sdp, reply } => {
                let result = self.members.get_mut(member).ok_or("no such member".to_owned()).and_then(|m| {
                    let offer = SdpOffer::from_sdp_string(&sdp).map_err(|e| e.to_string())?;
                    let answer = m.rtc.sdp_api().accept_offer(offer).map_err(|e| e.to_string())?;
                    Ok(answer.to_sdp_string())
                });
                self.mark(member);
                let _ = reply.send(result);
            }
            Command::Step(step) => self.step = step,
            Command::Report(reply) => {
                let publishers = self.publishers as usize;
                let ready = self
                    .members
                    .iter()
                    .filter(|m| m.heard.len() + usize::from(m.publisher.is_some()) >= publishers)
                    .count();
                let _ = reply.send(Report {
                    connected: self.members.iter().filter(|m| m.rtc.is_connected()).count(),
                    ready,
                    members: self.members.len(),
                    steps: self.counts.clone(),
                    send_dropped: self.send_dropped,
                });
            }
        }
    }

    fn add(&mut self, publish: bool) -> Result<(usize, String), String> {
        let index = self.members.len();
        let local = self.socket.address_of(u32::try_from(index).map_err(|e| e.to_string())?);
        let now = Instant::now();
        let mut rtc = Rtc::builder().clear_codecs().enable_opus(true, false).build(now);
        rtc.add_local_candidate(Candidate::host(local, "udp").map_err(|e| e.to_string())?);
        let mut api = rtc.sdp_api();
        let direction = if publish { Direction::SendOnly } else { Direction::RecvOnly };
        let mid = api.add_media(MediaKind::Audio, direction, Some(format!("p{index}")), None, None);
        let (offer, pending) = api.apply().ok_or("nothing to offer")?;
        let publisher = publish.then(|| {
            self.publishers += 1;
            self.publishers - 1
        });
        self.members.push(Member {
            rtc,
            local,
            publishing: publish.then_some((mid, 0)),
            pending: Some(pending),
            heard: HashSet::new(),
            publisher,
            wake: now,
        });
        self.by_local.insert(local, index);
        self.mark(index);
        Ok((index, offer.to_sdp_string()))
    }

    /// The publishers of the slot due send a frame each.
    fn publish(&mut self, now: Instant) {
        let slots = if self.in_phase { 1 } else { self.publishers.max(1) };
        let this_slot = (self.slot % u64::from(slots)) as u32;
        self.slot += 1;
        self.next_slot += FRAME / slots;
        if self.next_slot + FRAME < now {
            // Far behind (the machine stalled): skip ahead rather than send a burst.
            self.next_slot = now;
        }
        let step = self.step.unwrap_or(NO_STEP);
        let mut sent = 0;
        for index in 0..self.members.len() {
            let member = &mut self.members[index];
            let (Some((mid, seq)), Some(publisher)) = (member.publishing, member.publisher) else { continue };
            if publisher % slots != this_slot {
                continue;
            }
            if !member.rtc.is_connected() {
                continue;
            }
            let Some(writer) = member.rtc.writer(mid) else { continue };
            let Some(pt) = writer.payload_params().find(|p| p.spec().codec == Codec::Opus).map(|p| p.pt()) else {
                continue;
            };
            let payload = stamp(step, publisher, seq, now_micros());
            let time = MediaTime::new(seq * FRAME_TICKS, str0m::media::Frequency::FORTY_EIGHT_KHZ);
            // A level above the SFU's speaking threshold: its speaker detection works too.
            if writer.audio_level(-30, true).write(pt, now, time, payload.to_vec()).is_ok() {
                member.publishing = Some((mid, seq + 1));
                sent += 1;
            }
            self.mark(index);
        }
        if let Some(counts) = self.step.and_then(|s| self.counts.get_mut(s as usize)) {
            counts.0 += sent;
        }
    }

    fn receive(&mut self, data: &[u8], source: SocketAddr, destination: SocketAddr) {
        let Some(&index) = self.by_local.get(&destination) else { return };
        let Ok(contents) = data.try_into() else { return };
        let input = Input::Receive(Instant::now(), Receive { proto: Protocol::Udp, source, destination, contents });
        let Some(member) = self.members.get_mut(index) else { return };
        if let Err(e) = member.rtc.handle_input(input) {
            eprintln!("sfu-audio: participant {index}: {e}");
        }
        self.mark(index);
    }

    fn drive(&mut self) {
        while let Some(index) = self.dirty.pop_front() {
            self.queued.remove(&index);
            self.poll(index);
        }
    }

    fn poll(&mut self, index: usize) {
        loop {
            let Some(member) = self.members.get_mut(index) else { return };
            match member.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    if member.wake != at {
                        member.wake = at;
                        self.wakes.push(Reverse((at, index)));
                    }
                    return;
                }
                Ok(Output::Transmit(t)) => {
                    if self.socket.try_send(&t.contents, member.local, t.destination).is_err() {
                        self.send_dropped += 1;
                    }
                }
                Ok(Output::Event(Event::MediaData(data))) => {
                    let Some((step, publisher, _seq, sent)) = read_stamp(&data.data) else { continue };
                    member.heard.insert(publisher);
                    if let Some(counts) = self.counts.get_mut(step as usize) {
                        counts.1 += 1;
                        let latency = &self.latency[step as usize];
                        latency.record_uncounted(now_micros().saturating_sub(sent));
                        latency.add_count(1);
                    }
                }
                Ok(Output::Event(_)) => {}
                Err(e) => {
                    eprintln!("sfu-audio: participant {index}: {e}");
                    return;
                }
            }
        }
    }

    fn next_wake(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, index))) = self.wakes.peek().copied() {
            if self.members.get(index).is_some_and(|m| m.wake == at) {
                return Some(at);
            }
            self.wakes.pop();
        }
        None
    }

    fn timeouts(&mut self, now: Instant) {
        while let Some(Reverse((at, index))) = self.wakes.peek().copied() {
            if at > now {
                break;
            }
            self.wakes.pop();
            let Some(member) = self.members.get_mut(index) else { continue };
            if member.wake != at {
                continue;
            }
            if let Err(e) = member.rtc.handle_input(Input::Timeout(now)) {
                eprintln!("sfu-audio: participant {index}: {e}");
            }
            self.mark(index);
        }
    }
}

/// An Opus-sized (80-byte) payload: step, publisher, sequence number, send time.
fn stamp(step: u32, publisher: u32, seq: u64, micros: u64) -> [u8; 80] {
    let mut p = [0x55u8; 80];
    p[0..4].copy_from_slice(&step.to_be_bytes());
    p[4..8].copy_from_slice(&publisher.to_be_bytes());
    p[8..16].copy_from_slice(&seq.to_be_bytes());
    p[16..24].copy_from_slice(&micros.to_be_bytes());
    p
}

fn read_stamp(p: &[u8]) -> Option<(u32, u32, u64, u64)> {
    let field = |r: std::ops::Range<usize>| p.get(r);
    let step = u32::from_be_bytes(field(0..4)?.try_into().ok()?);
    let publisher = u32::from_be_bytes(field(4..8)?.try_into().ok()?);
    let seq = u64::from_be_bytes(field(8..16)?.try_into().ok()?);
    let micros = u64::from_be_bytes(field(16..24)?.try_into().ok()?);
    Some((step, publisher, seq, micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_read_back() {
        let p = stamp(3, 7, 99, 1_700_000_000_000_000);
        assert_eq!(p.len(), 80);
        assert_eq!(read_stamp(&p), Some((3, 7, 99, 1_700_000_000_000_000)));
        assert_eq!(read_stamp(&p[..10]), None);
    }
}
