//! Following the other nodes: one pub/sub connection to the shared channel, delivering
//! what other nodes publish to this node's sockets. When the connection drops (or stops
//! answering pings) it connects and subscribes again by itself, then brings this node's
//! sockets up to date with the store (revoked sessions, joined and left chats, missed
//! events), since pub/sub keeps nothing for a subscriber that was away.

use super::{COMMAND_TIMEOUT, Shared, envelope};
use crate::broker::Broadcast;
use chatter_core::service::Notice;
use chatter_core::{ChatId, SessionId};
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::timeout;

/// How often the subscription checks that Redis still answers.
const PING_EVERY: Duration = Duration::from_secs(3);

/// Follows the channel for as long as the node runs.
pub async fn run(shared: Arc<Shared>, client: redis::Client) {
    let mut pause = Duration::from_millis(100);
    loop {
        let followed = follow(&shared, &client, &mut pause).await;
        shared.hearing.store(0, Ordering::Release);
        match followed {
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
    let number = shared.subscriptions.fetch_add(1, Ordering::AcqRel) + 1;
    shared.hearing.store(number, Ordering::Release);
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
                    Ok((_, Broadcast::CatchUp)) => {
                        tokio::spawn(catch_up(shared.clone()));
                    }
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

/// Brings this node's sockets up to date with the store after broadcasts may have been
/// lost (the subscription was down): sessions revoked meanwhile close, chats joined or
/// left meanwhile are added or removed, and every socket reads the events it missed.
/// A store error is retried (with pauses) until the store answers.
async fn catch_up(shared: Arc<Shared>) {
    let mut pause = Duration::from_millis(200);
    while let Err(e) = try_catch_up(&shared).await {
        tracing::warn!(error = %e, "catching up after Redis came back: store unavailable; trying again");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

async fn try_catch_up(shared: &Shared) -> Result<(), chatter_core::StoreError> {
    let store = &shared.store;
    for (user_id, (sessions, followed)) in shared.hub.users() {
        let alive: HashSet<SessionId> = store.sessions_of_user(&user_id).await?.into_iter().map(|s| s.id).collect();
        let revoked: Vec<SessionId> = sessions.into_iter().filter(|s| !alive.contains(s)).collect();
        if !revoked.is_empty() {
            shared.hub.deliver(&Broadcast::Notice(Notice::SessionsRevoked {
                user_id: user_id.clone(),
                session_ids: revoked,
            }));
        }
        let current: HashSet<ChatId> = store.chat_heads(&user_id).await?.into_iter().map(|(c, _)| c).collect();
        for chat_id in followed.difference(&current) {
            let removed = Notice::ChatRemoved { user_id: user_id.clone(), chat_id: chat_id.clone() };
            shared.hub.deliver(&Broadcast::Notice(removed));
        }
        for chat_id in current.difference(&followed) {
            if let Some(chat) = store.chat(chat_id).await? {
                shared.hub.deliver(&Broadcast::Notice(Notice::ChatAdded { user_id: user_id.clone(), chat }));
            }
        }
    }
    for chat_id in shared.hub.followed_chats() {
        if let Some(chat) = store.chat(&chat_id).await? {
            shared.hub.deliver(&Broadcast::Head { chat_id, event_seq: chat.last_event_seq });
        }
    }
    Ok(())
}
