//! A lean WebSocket reader for the load's subscribers: a hand-made upgrade, then frames
//! parsed straight from large reads, with no per-frame allocation. It answers pings and
//! hands each text frame's bytes to a callback. Both servers are read the same way, so
//! the load client takes as little CPU as it can from the machine they share.

use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An upgraded connection.
#[derive(Debug)]
pub struct RawSocket {
    stream: TcpStream,
    buf: Vec<u8>,
    len: usize,
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

/// Opens `ws://host:port/path` with extra headers.
pub async fn connect(url: &str, headers: &[(String, String)]) -> io::Result<RawSocket> {
    let rest = url.strip_prefix("ws://").ok_or_else(|| bad("ws:// URLs only"))?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(host).await?;
    stream.set_nodelay(true)?;
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: Y2hhdHRlci1iZW5jaC0xNg==\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0;
    let header_end = loop {
        let n = stream.read(&mut buf[len..]).await?;
        if n == 0 {
            return Err(bad("closed during the upgrade"));
        }
        len += n;
        if let Some(i) = buf[..len].windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    if !buf[..header_end].starts_with(b"HTTP/1.1 101") {
        return Err(bad(&String::from_utf8_lossy(&buf[..header_end.min(64)])));
    }
    buf.copy_within(header_end..len, 0);
    Ok(RawSocket { stream, buf, len: len - header_end })
}

impl RawSocket {
    /// Reads frames until the connection ends, calling `on_text` with each text frame
    /// and `on_idle` whenever every frame read so far has been handed over (before
    /// waiting for more bytes), so callers can publish per-batch tallies.
    pub async fn read_texts(&mut self, mut on_text: impl FnMut(&[u8]), mut on_idle: impl FnMut()) -> io::Result<()> {
        loop {
            let mut start = 0;
            // Parse every whole frame in the buffer.
            while let Some((opcode, payload, next)) = frame(&self.buf[start..self.len]) {
                let (from, to) = (start + payload.0, start + payload.1);
                match opcode {
                    0x1 => on_text(&self.buf[from..to]),
                    0x8 => return Ok(()),
                    0x9 => {
                        let body = self.buf[from..to].to_vec();
                        self.pong(&body).await?;
                    }
                    _ => {}
                }
                start += next;
            }
            on_idle();
            self.buf.copy_within(start..self.len, 0);
            self.len -= start;
            if self.len == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            let n = self.stream.read(&mut self.buf[self.len..]).await?;
            if n == 0 {
                return Ok(());
            }
            self.len += n;
        }
    }

    /// Sends a (short) text frame.
    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        let body = text.as_bytes();
        if body.len() > 125 {
            return Err(bad("send_text is for short frames"));
        }
        // Client frames are masked; a zero mask leaves the payload as it is.
        let mut out = vec![0x81, 0x80 | body.len() as u8, 0, 0, 0, 0];
        out.extend_from_slice(body);
        self.stream.write_all(&out).await
    }

    async fn pong(&mut self, body: &[u8]) -> io::Result<()> {
        // Client frames are masked; a zero mask leaves the payload as it is.
        let mut out = vec![0x8A, 0x80 | body.len() as u8, 0, 0, 0, 0];
        out.extend_from_slice(body);
        self.stream.write_all(&out).await
    }
}

/// One whole unmasked server frame at the start of `b`: (opcode, payload range, frame
/// length), or `None` if more bytes are needed.
fn frame(b: &[u8]) -> Option<(u8, (usize, usize), usize)> {
    if b.len() < 2 {
        return None;
    }
    let opcode = b[0] & 0x0F;
    let (len, header) = match b[1] & 0x7F {
        126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
        127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().ok()?) as usize, 10),
        126 | 127 => return None,
        n => (n as usize, 2),
    };
    (b.len() >= header + len).then_some((opcode, (header, header + len), header + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_by_their_length_headers() {
        assert_eq!(frame(&[0x81, 0x02, b'h', b'i', 0x81]), Some((1, (2, 4), 4)));
        assert_eq!(frame(&[0x81, 0x05, b'h']), None);
        let mut long = vec![0x81, 126, 0x01, 0x00];
        long.extend(std::iter::repeat_n(b'x', 256));
        assert_eq!(frame(&long), Some((1, (4, 260), 260)));
        assert_eq!(frame(&[0x89, 0x00]), Some((9, (2, 2), 2)));
    }
}
