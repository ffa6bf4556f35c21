//! The sync service: one task that owns the WebSocket. It authenticates, resumes every
//! known chat from its last applied event_seq (the server replays exactly what was
//! missed), reads the chat list to learn of chats added while away, then applies live
//! events and sends queued messages one at a time, in order. When the connection drops
//! it reconnects with exponential backoff and jitter and does the same again.

pub(crate) mod backoff;
mod connection;
pub(crate) mod handle;

pub use handle::{DisconnectReason, SyncState};
pub(crate) use handle::{SyncCommand, SyncHandle};

use crate::client::inner::ClientInner;
use crate::platform;
use connection::End;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Starts the sync task for `inner`.
pub(crate) fn start(inner: Arc<ClientInner>, generation: u64) -> SyncHandle {
    let (commands, rx) = mpsc::unbounded_channel();
    let finished = Arc::new(AtomicBool::new(false));
    inner.spawner.clone().spawn(run(inner, generation, rx, finished.clone()));
    SyncHandle { commands, finished }
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
