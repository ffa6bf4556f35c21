//! The WebSocket wire format (RFC 6455), both ways, with no I/O: decoding the client's
//! masked frames into messages (reassembling fragments, enforcing the size limit,
//! checking UTF-8) and encoding the server's unmasked frames straight into a write
//! buffer, so a batch of events becomes one write.

/// Something a client sent, once whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A text message (valid UTF-8).
    Text(String),
    /// A binary message.
    Binary,
    /// A ping, with its payload to echo.
    Ping(Vec<u8>),
    /// A pong.
    Pong,
    /// The client closes, with its code if it gave one.
    Close(Option<u16>),
}

/// Why decoding stopped: the connection must close with this code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// A message over the size limit (1009).
    TooBig,
    /// A frame that breaks the protocol (1002).
    Protocol,
    /// A text message that is not UTF-8 (1007).
    BadUtf8,
}

impl WireError {
    /// The close code to answer with.
    pub fn close_code(self) -> u16 {
        match self {
            Self::TooBig => 1009,
            Self::Protocol => 1002,
            Self::BadUtf8 => 1007,
        }
    }
}

/// Reassembles client frames into messages.
#[derive(Debug)]
pub struct Decoder {
    max_message: usize,
    /// The data message being reassembled: its opcode and bytes so far.
    partial: Option<(u8, Vec<u8>)>,
}

impl Decoder {
    /// A decoder refusing messages over `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Self { max_message, partial: None }
    }

    /// Decodes from the start of `buf`: `Ok(Some((message, used)))` for a whole message,
    /// `Ok(None)` when more bytes are needed (a finished fragment is consumed into the
    /// decoder and reported with `used` > 0 and no message).
    pub fn decode(&mut self, buf: &[u8]) -> Result<(Option<Incoming>, usize), WireError> {
        if buf.len() < 2 {
            return Ok((None, 0));
        }
        let (fin, opcode) = (buf[0] & 0x80 != 0, buf[0] & 0x0F);
        if buf[0] & 0x70 != 0 || buf[1] & 0x80 == 0 {
            // Reserved bits set, or an unmasked client frame.
            return Err(WireError::Protocol);
        }
        let (len, mut at) = match buf[1] & 0x7F {
            126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
            127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().map_err(|_| WireError::Protocol)?), 10),
            126 | 127 => return Ok((None, 0)),
            n => (u64::from(n), 2),
        };
        let control = opcode >= 0x8;
        if control && (!fin || len > 125) {
            return Err(WireError::Protocol);
        }
        if len >> 63 != 0 {
            // The most significant bit of a 64-bit length must be 0.
            return Err(WireError::Protocol);
        }
        let already = self.partial.as_ref().map_or(0, |(_, b)| b.len() as u64);
        if !control && already.checked_add(len).is_none_or(|total| total > self.max_message as u64) {
            return Err(WireError::TooBig);
        }
        let len = len as usize;
        if buf.len() < at + 4 + len {
            return Ok((None, 0));
        }
        let mask = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        at += 4;
        let mut payload: Vec<u8> = buf[at..at + len].to_vec();
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        let used = at + len;
        let message = match opcode {
            0x8 => {
                if payload.len() == 1 || (payload.len() > 2 && std::str::from_utf8(&payload[2..]).is_err()) {
                    return Err(WireError::Protocol);
                }
                Some(Incoming::Close((payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))))
            }
            0x9 => Some(Incoming::Ping(payload)),
            0xA => Some(Incoming::Pong),
            0x1 | 0x2 => {
                if self.partial.is_some() {
                    return Err(WireError::Protocol);
                }
                if fin {
                    Some(finish(opcode, payload)?)
                } else {
                    self.partial = Some((opcode, payload));
                    None
                }
            }
            0x0 => {
                let Some((first, mut body)) = self.partial.take() else { return Err(WireError::Protocol) };
                body.extend_from_slice(&payload);
                if fin {
                    Some(finish(first, body)?)
                } else {
                    self.partial = Some((first, body));
                    None
                }
            }
            _ => return Err(WireError::Protocol),
        };
        Ok((message, used))
    }
}

fn finish(opcode: u8, body: Vec<u8>) -> Result<Incoming, WireError> {
    if opcode == 0x2 {
        return Ok(Incoming::Binary);
    }
    String::from_utf8(body).map(Incoming::Text).map_err(|_| WireError::BadUtf8)
}

fn header(out: &mut Vec<u8>, opcode: u8, len: usize) {
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Appends a text frame.
pub fn text(out: &mut Vec<u8>, payload: &[u8]) {
    header(out, 0x1, payload.len());
    out.extend_from_slice(payload);
}

/// Appends a ping frame.
pub fn ping(out: &mut Vec<u8>) {
    header(out, 0x9, 0);
}

/// Appends a pong frame echoing `payload`.
pub fn pong(out: &mut Vec<u8>, payload: &[u8]) {
    header(out, 0xA, payload.len());
    out.extend_from_slice(payload);
}

/// Appends a close frame.
pub fn close(out: &mut Vec<u8>, code: u16, reason: &str) {
    let reason = &reason.as_bytes()[..reason.len().min(123)];
    header(out, 0x8, 2 + reason.len());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(reason);
}

/// The `Sec-WebSocket-Accept` answer to a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> String {
    use base64::Engine;
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(key);
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut out = vec![first];
        if payload.len() < 126 {
            out.push(0x80 | payload.len() as u8);
        } else {
            out.push(0x80 | 126);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[test]
    fn decodes_masked_text_and_needs_whole_frames() {
        let f = masked(0x81, b"hello");
        let mut d = Decoder::new(1024);
        assert_eq!(d.decode(&f[..4]).unwrap(), (None, 0));
        assert_eq!(d.decode(&f).unwrap(), (Some(Incoming::Text("hello".into())), f.len()));
    }

    #[test]
    fn reassembles_fragments_and_enforces_the_limit_across_them() {
        let mut d = Decoder::new(10);
        let a = masked(0x01, b"hel");
        let b = masked(0x80, b"lo");
        assert_eq!(d.decode(&a).unwrap(), (None, a.len()));
        assert_eq!(d.decode(&b).unwrap(), (Some(Incoming::Text("hello".into())), b.len()));
        let big = masked(0x01, b"0123456");
        assert_eq!(d.decode(&big).unwrap().1, big.len());
        assert_eq!(d.decode(&masked(0x80, b"7890")), Err(WireError::TooBig));
        assert_eq!(Decoder::new(4).decode(&masked(0x81, b"12345")), Err(WireError::TooBig));
    }

    #[test]
    fn rejects_protocol_errors_and_bad_utf8() {
        let mut unmasked = masked(0x81, b"x");
        unmasked[1] &= 0x7F;
        assert_eq!(Decoder::new(64).decode(&unmasked), Err(WireError::Protocol));
        assert_eq!(Decoder::new(64).decode(&masked(0x80, b"x")), Err(WireError::Protocol), "continuation first");
        assert_eq!(Decoder::new(64).decode(&masked(0x81, &[0xFF, 0xFE])), Err(WireError::BadUtf8));
        assert_eq!(Decoder::new(64).decode(&masked(0x09, b"")), Err(WireError::Protocol), "fragmented ping");
        assert_eq!(Decoder::new(64).decode(&masked(0x88, b"x")), Err(WireError::Protocol), "1-byte close");
        // A 64-bit length with its top bit set, or one that overflows with a buffered
        // fragment, is refused without arithmetic overflow.
        let mut huge = vec![0x81, 0x80 | 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        huge.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(Decoder::new(64).decode(&huge), Err(WireError::Protocol));
        let mut d = Decoder::new(64);
        let first = masked(0x01, b"abc");
        assert_eq!(d.decode(&first).unwrap().1, first.len());
        let mut cont = vec![0x80, 0x80 | 127];
        cont.extend_from_slice(&(u64::MAX >> 1).to_be_bytes());
        cont.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(d.decode(&cont), Err(WireError::TooBig));
    }

    #[test]
    fn control_frames_and_close_codes() {
        let mut d = Decoder::new(64);
        assert_eq!(d.decode(&masked(0x89, b"p")).unwrap().0, Some(Incoming::Ping(b"p".to_vec())));
        assert_eq!(d.decode(&masked(0x8A, b"")).unwrap().0, Some(Incoming::Pong));
        assert_eq!(d.decode(&masked(0x88, &[0x03, 0xE8])).unwrap().0, Some(Incoming::Close(Some(1000))));
        assert_eq!(d.decode(&masked(0x82, b"bin")).unwrap().0, Some(Incoming::Binary));
    }

    #[test]
    fn encodes_server_frames() {
        let mut out = Vec::new();
        text(&mut out, b"hi");
        assert_eq!(out, [0x81, 2, b'h', b'i']);
        out.clear();
        text(&mut out, &[b'x'; 300]);
        assert_eq!(&out[..4], &[0x81, 126, 0x01, 0x2C]);
        out.clear();
        close(&mut out, 4008, "slow");
        assert_eq!(out, [0x88, 6, 0x0F, 0xA8, b's', b'l', b'o', b'w']);
    }

    #[test]
    fn accept_key_matches_the_rfc_example() {
        assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
}
