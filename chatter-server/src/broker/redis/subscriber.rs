//! Following the other nodes: one pub/sub connection to the shared channel, delivering
//! what other nodes publish to this node's sockets. When the connection drops (or stops
//! answering pings) it connects and subscribes again by itself, then asks the store for
//! the head of every chat this node's sockets follow, so each socket reads what it
//! missed meanwhile.

use super::{COMMAND_TIMEOUT, Shared, envelope};
use crate::broker::Broadcast;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;

/// How often the subscription checks that Redis still answers.
const PING_EVERY: Duration = Duration::from_secs(3);

/// Follows the channel for as long as the node runs.
pub async fn run(shared: Arc<Shared>, client: redis::Client) {
    let mut pause = Duration::from_millis(100);
    loop {
        match follow(&shared, &client, &mut pause).await {
            Ok(()) => tracing::warn!("Redis subscription ended; subscribing again"),
            Err(e) => tracing::warn!(error = %e, "Redis subscription failed; subscribing again"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

#[derive(Debug, thiserror::Error)]
enum Lost {
    #[error("{0}")]
    Redis(#[from] redis::RedisError),
    #[error("no answer within {COMMAND_TIMEOUT:?}")]
    Timeout(#[from] tokio::time::error::Elapsed),
}

async fn follow(shared: &Arc<Shared>, client: &redis::Client, pause: &mut Duration) -> Result<(), Lost> {
    let (mut sink, mut stream) = timeout(COMMAND_TIMEOUT, client.get_async_pubsub()).await??.split();
    timeout(COMMAND_TIMEOUT, sink.subscribe(shared.keys.channel())).await??;
    *pause = Duration::from_millis(100);
    tokio::spawn(catch_up(shared.clone()));
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Ok(()) };
                match envelope::decode(message.get_payload_bytes()) {
                    Ok((from, _)) if from == shared.node => {}
                    Ok((_, broadcast)) => shared.hub.deliver(&broadcast),
                    Err(e) => tracing::warn!(error = %e, "undecodable broadcast from Redis"),
                }
            }
            _ = ping.tick() => {
                timeout(COMMAND_TIMEOUT, sink.ping::<redis::Value>()).await??;
            }
        }
    }
}

/// Tells every socket the store's head of each chat this node follows: broadcasts
/// published while the subscription was down are read from the store instead.
async fn catch_up(shared: Arc<Shared>) {
    let chats = shared.hub.followed_chats();
    for chat_id in chats {
        match shared.store.chat(&chat_id).await {
            Ok(Some(chat)) => shared.hub.deliver(&Broadcast::Head { chat_id, event_seq: chat.last_event_seq }),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "catching up after Redis came back: store unavailable");
                return;
            }
        }
    }
}
