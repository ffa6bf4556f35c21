//! Asking a connection to close, from anywhere, with the first reason given.

use std::sync::atomic::{AtomicU16, Ordering};
use tokio::sync::Notify;

/// WebSocket close codes the server uses (API.md, "Close codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum CloseCode {
    /// The client closed; the server answers in kind.
    Normal = 1000,
    /// The server is shutting down: reconnect and resume.
    GoingAway = 1001,
    /// A frame that breaks the WebSocket protocol.
    Protocol = 1002,
    /// A text frame that is not UTF-8.
    BadUtf8 = 1007,
    /// A frame over 64 KiB.
    TooBig = 1009,
    /// Not (or no longer) authenticated: do not reconnect with this token.
    Unauthenticated = 4001,
    /// The outgoing queue overflowed: reconnect and resume.
    SlowConsumer = 4008,
    /// Too many connections.
    TooManyConnections = 4029,
    /// The peer stopped answering pings.
    Timeout = 4000,
}

impl CloseCode {
    /// The reason text sent with the code.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Normal => "bye",
            Self::GoingAway => "server shutting down",
            Self::Protocol => "protocol error",
            Self::BadUtf8 => "text is not UTF-8",
            Self::TooBig => "frame too large",
            Self::Unauthenticated => "not authenticated",
            Self::SlowConsumer => "slow consumer",
            Self::TooManyConnections => "too many connections",
            Self::Timeout => "heartbeat timeout",
        }
    }

    /// The code that answers a decoding error.
    pub fn from_wire(e: super::wire::WireError) -> Self {
        match e {
            super::wire::WireError::TooBig => Self::TooBig,
            super::wire::WireError::Protocol => Self::Protocol,
            super::wire::WireError::BadUtf8 => Self::BadUtf8,
        }
    }

    fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            1000 => Self::Normal,
            1001 => Self::GoingAway,
            1002 => Self::Protocol,
            1007 => Self::BadUtf8,
            1009 => Self::TooBig,
            4001 => Self::Unauthenticated,
            4008 => Self::SlowConsumer,
            4029 => Self::TooManyConnections,
            4000 => Self::Timeout,
            _ => return None,
        })
    }
}

/// A one-shot "please close with this code", shared by the hub and the socket's tasks.
#[derive(Debug, Default)]
pub struct CloseSignal {
    code: AtomicU16,
    notify: Notify,
}

impl CloseSignal {
    /// Asks for a close; the first code asked for wins.
    pub fn close(&self, code: CloseCode) {
        if self.code.compare_exchange(0, code as u16, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.notify.notify_waiters();
        }
    }

    /// The code asked for, if any.
    pub fn requested(&self) -> Option<CloseCode> {
        CloseCode::from_u16(self.code.load(Ordering::SeqCst))
    }

    /// Waits until a close is asked for.
    pub async fn wait(&self) -> CloseCode {
        loop {
            let notified = self.notify.notified();
            if let Some(code) = self.requested() {
                return code;
            }
            notified.await;
        }
    }
}
