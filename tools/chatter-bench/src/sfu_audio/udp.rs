//! One UDP socket for every simulated participant. Each participant needs an address of
//! its own (the SFU tells connections apart by their remote address), so the socket is
//! bound on every local address and each participant uses its own loopback IP
//! (127.0.0.0/8 is all local on Linux): `IP_PKTINFO` says which address a datagram
//! arrived at and picks the address each one leaves from. One socket, one file
//! descriptor, however many participants.

use nix::libc;
use nix::sys::socket::{self, ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, sockopt};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::os::fd::AsRawFd;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Socket buffer sizes asked for, in bytes.
const BUFFER: usize = 32 << 20;

/// A datagram read from the socket.
#[derive(Debug, Clone, Copy)]
pub struct Datagram {
    /// Bytes read into the buffer.
    pub len: usize,
    /// Who sent it.
    pub source: SocketAddr,
    /// The local address it was sent to.
    pub destination: SocketAddr,
}

/// The shared socket.
#[derive(Debug)]
pub struct SharedSocket {
    socket: UdpSocket,
    port: u16,
}

/// Gives `socket` room for bursts of thousands of packets between two reads: past the
/// system's limit when allowed to (root), else up to it.
pub fn enlarge_buffers(socket: &StdUdpSocket) {
    if socket::setsockopt(socket, sockopt::RcvBufForce, &BUFFER).is_err() {
        let _ = socket::setsockopt(socket, sockopt::RcvBuf, &BUFFER);
    }
    if socket::setsockopt(socket, sockopt::SndBufForce, &BUFFER).is_err() {
        let _ = socket::setsockopt(socket, sockopt::SndBuf, &BUFFER);
    }
}

/// Loopback address `n` (from 0) on `port`: 127.x.y.z, never 127.0.0.1 (where the
/// server listens).
pub fn loopback_address(n: u32, port: u16) -> SocketAddr {
    let [_, a, b, c] = (n + 2).to_be_bytes();
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, a, b, c), port))
}

impl SharedSocket {
    /// Binds `0.0.0.0` on an ephemeral port, asking for each datagram's destination.
    pub fn bind() -> io::Result<Self> {
        let std = StdUdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
        std.set_nonblocking(true)?;
        socket::setsockopt(&std, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from)?;
        enlarge_buffers(&std);
        let port = std.local_addr()?.port();
        Ok(Self { socket: UdpSocket::from_std(std)?, port })
    }

    /// The address participant `n` (from 0) uses: 127.x.y.z on the shared port, never
    /// 127.0.0.1 (where the server listens).
    pub fn address_of(&self, n: u32) -> SocketAddr {
        loopback_address(n, self.port)
    }

    /// Waits until a datagram can be read.
    pub async fn readable(&self) -> io::Result<()> {
        self.socket.readable().await
    }

    /// Reads one datagram if one is waiting (`WouldBlock` otherwise).
    pub fn try_recv(&self, buf: &mut [u8], cmsg: &mut [u8]) -> io::Result<Datagram> {
        self.socket.try_io(Interest::READABLE, || {
            let fd = self.socket.as_raw_fd();
            let mut iov = [IoSliceMut::new(buf)];
            let msg =
                socket::recvmsg::<SockaddrIn>(fd, &mut iov, Some(cmsg), MsgFlags::empty()).map_err(io::Error::from)?;
            let source = msg.address.map(|a| SocketAddr::V4(SocketAddrV4::from(a)));
            let destination = msg.cmsgs().map_err(io::Error::from)?.find_map(|c| match c {
                ControlMessageOwned::Ipv4PacketInfo(info) => Some(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)),
                    self.port,
                ))),
                _ => None,
            });
            match (source, destination) {
                (Some(source), Some(destination)) => Ok(Datagram { len: msg.bytes, source, destination }),
                _ => Err(io::Error::other("a datagram without its addresses")),
            }
        })
    }

    /// Sends `data` from local address `from` to `to` without waiting (a full buffer
    /// drops it, as the network would).
    pub fn try_send(&self, data: &[u8], from: SocketAddr, to: SocketAddr) -> io::Result<()> {
        let (SocketAddr::V4(from), SocketAddr::V4(to)) = (from, to) else {
            return Err(io::Error::other("IPv4 only"));
        };
        let info = libc::in_pktinfo {
            ipi_ifindex: 0,
            ipi_spec_dst: libc::in_addr { s_addr: u32::from(*from.ip()).to_be() },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        let to = SockaddrIn::from(to);
        self.socket.try_io(Interest::WRITABLE, || {
            socket::sendmsg(
                self.socket.as_raw_fd(),
                &[IoSlice::new(data)],
                &[ControlMessage::Ipv4PacketInfo(&info)],
                MsgFlags::empty(),
                Some(&to),
            )
            .map(|_| ())
            .map_err(io::Error::from)
        })
    }

    /// A control-message buffer big enough for what [`Self::try_recv`] asks for.
    pub fn cmsg_buffer() -> Vec<u8> {
        nix::cmsg_space!(libc::in_pktinfo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn participants_send_and_receive_on_their_own_addresses() {
        let shared = SharedSocket::bind().unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer_addr = peer.local_addr().unwrap();
        let (a, b) = (shared.address_of(0), shared.address_of(300));
        assert_eq!(a.to_string(), format!("127.0.0.2:{}", a.port()));
        assert_eq!(b.to_string(), format!("127.0.1.46:{}", b.port()));
        shared.socket.writable().await.unwrap();
        shared.try_send(b"from b", b, peer_addr).unwrap();
        let mut buf = [0u8; 64];
        let (n, seen) = peer.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], seen), (&b"from b"[..], b), "it left from b's address");
        peer.send_to(b"to a", a).await.unwrap();
        let mut cmsg = SharedSocket::cmsg_buffer();
        let got = loop {
            shared.readable().await.unwrap();
            match shared.try_recv(&mut buf, &mut cmsg) {
                Ok(d) => break d,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!((&buf[..got.len], got.source, got.destination), (&b"to a"[..], peer_addr, a));
    }
}
