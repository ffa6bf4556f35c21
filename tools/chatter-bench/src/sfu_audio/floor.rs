//! The kernel's floor: what the SFU's datagrams cost to send when nothing else is done.
//! One thread sends rounds of datagrams the size of a forwarded audio packet, one to each
//! of many loopback addresses per round (as the SFU does for each packet it forwards),
//! in `sendmmsg` batches of 64 (as the SFU's outbox does), while another thread drains
//! them from one socket. The sending thread's CPU time per datagram is the least any
//! forwarder on this machine pays per forwarded packet: on loopback it includes
//! delivering into the receiving socket, as the server's does.

use super::udp::{enlarge_buffers, loopback_address};
use crate::procstat;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, sendmmsg};
use std::io::{self, IoSlice};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Bytes per datagram: an 80-byte payload with its RTP header, extensions and SRTP tag.
pub const DATAGRAM: usize = 128;
/// Datagrams per system call, as in the server's outbox.
const BATCH: usize = 64;

/// What the floor measurement found.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// Addresses each round went to.
    pub receivers: usize,
    /// Datagrams sent.
    pub sent: u64,
    /// Datagrams the receiving socket got.
    pub received: u64,
    /// The sending thread's CPU time per datagram, in microseconds.
    pub us_per_datagram: f64,
}

impl Floor {
    /// Audio consumers (50 packets/s each) one core could serve at this cost alone.
    pub fn consumers_per_core(&self) -> f64 {
        1e6 / (self.us_per_datagram.max(1e-9) * f64::from(super::load::PACKETS_PER_SECOND))
    }
}

/// Sends `rounds_per_sec` rounds to `receivers` addresses for `secs` seconds.
pub fn measure(receivers: usize, rounds_per_sec: u32, secs: f64) -> io::Result<Floor> {
    let sink = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
    enlarge_buffers(&sink);
    sink.set_read_timeout(Some(Duration::from_millis(100)))?;
    let port = sink.local_addr()?.port();
    let done = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let drain = {
        let (done, received) = (done.clone(), received.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !done.load(Ordering::Relaxed) {
                if sink.recv(&mut buf).is_ok() {
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let sent = std::thread::spawn(move || send(receivers, port, rounds_per_sec, secs)).join();
    // Datagrams still queued are read before the count is taken.
    std::thread::sleep(Duration::from_millis(200));
    done.store(true, Ordering::Relaxed);
    let _ = drain.join();
    let (sent, cpu) = sent.map_err(|_| io::Error::other("the floor's sender panicked"))??;
    Ok(Floor {
        receivers,
        sent,
        received: received.load(Ordering::Relaxed),
        us_per_datagram: cpu.as_secs_f64() * 1e6 / (sent.max(1) as f64),
    })
}

/// The sending thread: answers the datagrams sent and its CPU time.
fn send(receivers: usize, port: u16, rounds_per_sec: u32, secs: f64) -> io::Result<(u64, Duration)> {
    let socket = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))?;
    enlarge_buffers(&socket);
    let addrs: Vec<Option<SockaddrStorage>> =
        (0..receivers as u32).map(|n| Some(SockaddrStorage::from(loopback_address(n, port)))).collect();
    let payload = [0x5au8; DATAGRAM];
    let slices: Vec<[IoSlice<'_>; 1]> = (0..receivers).map(|_| [IoSlice::new(&payload)]).collect();
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    let period = Duration::from_secs_f64(1.0 / f64::from(rounds_per_sec.max(1)));
    let rounds = (secs * f64::from(rounds_per_sec)).ceil() as u64;
    let start = Instant::now();
    let cpu_before = procstat::thread_cpu_time().unwrap_or_default();
    let mut sent = 0u64;
    for round in 0..rounds {
        let mut at = 0;
        while at < receivers {
            let end = (at + BATCH).min(receivers);
            let n =
                sendmmsg(socket.as_raw_fd(), &mut headers, &slices[at..end], &addrs[at..end], [], MsgFlags::empty())
                    .map(|results| results.count())
                    .map_err(io::Error::from)?;
            at += n.max(1);
            sent += n as u64;
        }
        let next = start + period * u32::try_from(round + 1).unwrap_or(u32::MAX);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let cpu = procstat::thread_cpu_time().unwrap_or_default().saturating_sub(cpu_before);
    Ok((sent, cpu))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_datagram_sent_is_counted_and_costs_some_cpu() {
        let floor = measure(200, 100, 0.5).unwrap();
        assert_eq!(floor.sent, 200 * 50);
        assert_eq!(floor.received, floor.sent, "loopback with a large buffer loses nothing");
        assert!(floor.us_per_datagram > 0.0 && floor.consumers_per_core() > 0.0);
    }
}
