//! An upgraded connection as two halves: `SocketIn` decodes the client's messages,
//! `SocketOut` buffers the server's frames and writes them in one go on `flush`.

use super::wire::{self, Decoder, Incoming, WireError};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The reading half.
pub struct SocketIn {
    io: Box<dyn AsyncRead + Send + Unpin>,
    buf: Vec<u8>,
    len: usize,
    decoder: Decoder,
}

/// The writing half, with its write buffer.
pub struct SocketOut {
    io: Box<dyn AsyncWrite + Send + Unpin>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for SocketIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIn").field("buffered", &self.len).finish()
    }
}

impl std::fmt::Debug for SocketOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketOut").field("buffered", &self.buf.len()).finish()
    }
}

/// Splits an upgraded connection; a plain TCP stream is split without a lock.
pub fn open(upgraded: Upgraded, max_message: usize) -> (SocketIn, SocketOut) {
    let (reader, writer, early): (Box<dyn AsyncRead + Send + Unpin>, Box<dyn AsyncWrite + Send + Unpin>, Vec<u8>) =
        match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => {
                let (r, w) = parts.io.into_inner().into_split();
                (Box::new(r), Box::new(w), parts.read_buf.to_vec())
            }
            Err(upgraded) => {
                let (r, w) = tokio::io::split(TokioIo::new(upgraded));
                (Box::new(r), Box::new(w), Vec::new())
            }
        };
    let mut buf = vec![0u8; 16 * 1024];
    if early.len() > buf.len() {
        buf.resize(early.len(), 0);
    }
    buf[..early.len()].copy_from_slice(&early);
    (
        SocketIn { io: reader, len: early.len(), buf, decoder: Decoder::new(max_message) },
        SocketOut { io: writer, buf: Vec::with_capacity(16 * 1024) },
    )
}

impl SocketIn {
    /// The next whole message; `None` when the connection ended.
    pub async fn next(&mut self) -> Option<Result<Incoming, WireError>> {
        loop {
            match self.decoder.decode(&self.buf[..self.len]) {
                Err(e) => return Some(Err(e)),
                Ok((message, used)) => {
                    if used > 0 {
                        self.buf.copy_within(used..self.len, 0);
                        self.len -= used;
                    }
                    if let Some(m) = message {
                        return Some(Ok(m));
                    }
                    if used > 0 {
                        continue;
                    }
                }
            }
            if self.len == self.buf.len() {
                // The decoder refuses over-long messages from their header, so this stays
                // within the message limit plus one frame header.
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match self.io.read(&mut self.buf[self.len..]).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.len += n,
            }
        }
    }
}

impl SocketOut {
    /// Buffers a text frame.
    pub fn text(&mut self, payload: &[u8]) {
        wire::text(&mut self.buf, payload);
    }

    /// Whether frames are buffered and not yet written.
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Buffers a ping.
    pub fn ping(&mut self) {
        wire::ping(&mut self.buf);
    }

    /// Buffers a pong.
    pub fn pong(&mut self, payload: &[u8]) {
        wire::pong(&mut self.buf, payload);
    }

    /// Buffers a close frame.
    pub fn close(&mut self, code: u16, reason: &str) {
        wire::close(&mut self.buf, code, reason);
    }

    /// Writes everything buffered.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.io.write_all(&self.buf).await?;
            self.buf.clear();
        }
        self.io.flush().await
    }

    /// Ends the writing side (after a close frame).
    pub async fn shutdown(&mut self) {
        let _ = self.io.shutdown().await;
    }
}
