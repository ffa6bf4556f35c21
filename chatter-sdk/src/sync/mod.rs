//! The sync service: one task that owns the WebSocket. It authenticates, resumes every
//! known chat from its last applied event_seq (the server replays exactly what was
//! missed), reads the chat list to learn of chats added while away, then applies live
//! events and sends queued messages one at a time, in order. When the connection drops
//! it reconnects with exponential backoff and jitter and does the same again.

pub(crate) mod backoff;
mod connection;

use crate::client::ClientInner;
use crate::platform;
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
    commands: mpsc::UnboundedSender<SyncCommand>,
    finished: Arc<AtomicBool>,
}

impl SyncHandle {
    pub(crate) fn send(&self, command: SyncCommand) {
        let _ = self.commands.send(command);
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }
}

/// Starts the sync task for `inner`.
pub(crate) fn start(inner: Arc<ClientInner>, generation: u64) -> SyncHandle {
    let (commands, rx) = mpsc::unbounded_channel();
    let finished = Arc::new(AtomicBool::new(false));
    platform::spawn(run(inner, generation, rx, finished.clone()));
    SyncHandle { commands, finished }
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Asked to stop.
    Stopped,
    /// The session is over.
    Unauthenticated,
    /// The connection failed or dropped; `caught_up` if it had reached `Connected`.
    Lost {
        /// Whether it had caught up before it dropped.
        caught_up: bool,
    },
}

async fn run(
    inner: Arc<ClientInner>,
    generation: u64,
    mut commands: mpsc::UnboundedReceiver<SyncCommand>,
    finished: Arc<AtomicBool>,
) {
    let mut attempt = 0u32;
    let reason = loop {
        inner.set_sync_state(generation, SyncState::Connecting);
        match connection::run(&inner, generation, &mut commands).await {
            End::Stopped => break DisconnectReason::Stopped,
            End::Unauthenticated => {
                inner.session_ended().await;
                break DisconnectReason::Unauthenticated;
            }
            End::Lost { caught_up } => {
                attempt = if caught_up { 1 } else { attempt + 1 };
                let next_in = backoff::delay(attempt, platform::random_u64());
                inner.set_sync_state(generation, SyncState::Reconnecting { attempt, next_in });
                if wait(next_in, &mut commands).await {
                    break DisconnectReason::Stopped;
                }
            }
        }
    };
    inner.set_sync_state(generation, SyncState::Disconnected { reason });
    finished.store(true, Ordering::SeqCst);
}

/// Waits `delay` while offline; answers whether a stop was asked for meanwhile (frames
/// asked for while offline are dropped: typing and read markers are ephemeral).
async fn wait(delay: Duration, commands: &mut mpsc::UnboundedReceiver<SyncCommand>) -> bool {
    let sleep = platform::sleep(delay);
    futures::pin_mut!(sleep);
    loop {
        let next = commands.recv();
        futures::pin_mut!(next);
        match futures::future::select(sleep.as_mut(), next).await {
            futures::future::Either::Left(_) => return false,
            futures::future::Either::Right((None | Some(SyncCommand::Stop), _)) => return true,
            futures::future::Either::Right(_) => continue,
        }
    }
}
