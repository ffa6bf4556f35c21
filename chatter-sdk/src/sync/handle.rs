//! The sync service as the rest of the client sees it: its state, and the handle that
//! sends its task commands.

use chatter_core::protocol::ws::ClientFrame;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// What the sync service is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// ```no_run
/// # fn demo() {
/// use chatter_sdk::SyncState;
/// fn banner(state: &SyncState) -> &'static str {
///     match state {
///         SyncState::Connected => "",
///         SyncState::Connecting | SyncState::Reconnecting { .. } => "Connecting…",
///         SyncState::Idle | SyncState::Disconnected { .. } => "Offline",
///     }
/// }
/// # }
/// ```
pub enum SyncState {
    /// Not started.
    Idle,
    /// Opening the connection and catching up.
    Connecting,
    /// Caught up and receiving live events.
    Connected,
    /// The connection dropped; the next try is in `next_in`.
    Reconnecting {
        /// Tries since the last good connection (1, 2, …).
        attempt: u32,
        /// The wait before the next try.
        next_in: Duration,
    },
    /// Stopped for good.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
}

/// Why the sync service stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
///
/// ```no_run
/// # fn demo() {
/// use chatter_sdk::{DisconnectReason, SyncState};
/// fn must_log_in(state: &SyncState) -> bool {
///     matches!(state, SyncState::Disconnected { reason: DisconnectReason::Unauthenticated })
/// }
/// # }
/// ```
pub enum DisconnectReason {
    /// The app stopped it, logged out, or dropped the client.
    Stopped,
    /// The server ended the session: log in again.
    Unauthenticated,
}

/// What the client asks of the running sync task.
#[derive(Debug)]
pub(crate) enum SyncCommand {
    /// Send this frame if connected.
    Frame(ClientFrame),
    /// A send was queued or retried.
    QueueChanged,
    /// Close and stop.
    Stop,
}

/// The client's handle on its sync task.
#[derive(Debug)]
pub(crate) struct SyncHandle {
    pub(super) commands: mpsc::UnboundedSender<SyncCommand>,
    pub(super) finished: Arc<AtomicBool>,
}

impl SyncHandle {
    pub(crate) fn send(&self, command: SyncCommand) {
        let _ = self.commands.send(command);
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }
}
