//! Datagrams on their way out, sent in batches: one `sendmmsg` call carries up to
//! [`BATCH`] of them, so a packet forwarded to many receivers costs one system call per
//! batch rather than one each.

use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, sendmmsg, setsockopt, sockopt};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::ops::Range;
use std::os::fd::AsRawFd;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams per system call.
const BATCH: usize = 64;
/// Datagrams queued before they are sent without waiting for the end of the round.
const FLUSH_AT: usize = 1024;

/// Socket buffer sizes asked for, in bytes.
const SOCKET_BUFFER: usize = 8 << 20;

/// Gives the RTC socket room for the bursts a large call makes: a packet forwarded to
/// hundreds of receivers while their reports keep arriving. Past the system's limit
/// (`net.core.rmem_max`) when the process may (root), else up to it.
pub(super) fn enlarge_buffers(socket: &std::net::UdpSocket) {
    if setsockopt(socket, sockopt::RcvBufForce, &SOCKET_BUFFER).is_err() {
        let _ = setsockopt(socket, sockopt::RcvBuf, &SOCKET_BUFFER);
    }
    if setsockopt(socket, sockopt::SndBufForce, &SOCKET_BUFFER).is_err() {
        let _ = setsockopt(socket, sockopt::SndBuf, &SOCKET_BUFFER);
    }
    let receive = nix::sys::socket::getsockopt(socket, sockopt::RcvBuf).unwrap_or(0);
    let send = nix::sys::socket::getsockopt(socket, sockopt::SndBuf).unwrap_or(0);
    tracing::debug!(receive, send, "rtc socket buffers");
}

/// The queue.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    bytes: Vec<u8>,
    datagrams: Vec<(Range<usize>, SocketAddr)>,
}

impl Outbox {
    /// Queues a datagram; answers whether the queue should be sent now.
    pub fn push(&mut self, contents: &[u8], to: SocketAddr) -> bool {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(contents);
        self.datagrams.push((start..self.bytes.len(), to));
        self.datagrams.len() >= FLUSH_AT
    }

    /// Sends everything queued without waiting; answers how many datagrams a full
    /// socket buffer dropped (as a congested network would).
    pub fn flush(&mut self, socket: &UdpSocket) -> usize {
        if self.datagrams.is_empty() {
            return 0;
        }
        let mut dropped = 0;
        let mut at = 0;
        let slices: Vec<[IoSlice<'_>; 1]> =
            self.datagrams.iter().map(|(range, _)| [IoSlice::new(&self.bytes[range.clone()])]).collect();
        let addrs: Vec<Option<SockaddrStorage>> =
            self.datagrams.iter().map(|(_, to)| Some(SockaddrStorage::from(*to))).collect();
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH.min(slices.len()), None);
        while at < slices.len() {
            let end = (at + BATCH).min(slices.len());
            let sent = socket.try_io(Interest::WRITABLE, || {
                sendmmsg(socket.as_raw_fd(), &mut headers, &slices[at..end], &addrs[at..end], [], MsgFlags::empty())
                    // nix answers the count only as an iterator of results.
                    .map(|results| results.count())
                    .map_err(std::io::Error::from)
            });
            match sent {
                Ok(n) if n > 0 => at += n,
                // The buffer is full: what is left is dropped, as a congested link would.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    dropped += slices.len() - at;
                    break;
                }
                // This datagram cannot go (e.g. an unreachable address): the rest can.
                Ok(_) | Err(_) => {
                    dropped += 1;
                    at += 1;
                }
            }
        }
        drop(slices);
        self.bytes.clear();
        self.datagrams.clear();
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_batch_reaches_each_destination_in_order() {
        let from = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut outbox = Outbox::default();
        for i in 0..150u8 {
            let to = if i % 2 == 0 { &a } else { &b };
            assert!(!outbox.push(&[i; 3], to.local_addr().unwrap()));
        }
        from.writable().await.unwrap();
        assert_eq!(outbox.flush(&from), 0);
        let mut buf = [0u8; 16];
        for i in 0..150u8 {
            let to = if i % 2 == 0 { &a } else { &b };
            let (n, source) = to.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], source), (&[i; 3][..], from.local_addr().unwrap()));
        }
        assert_eq!(outbox.flush(&from), 0, "nothing left to send");
    }
}
