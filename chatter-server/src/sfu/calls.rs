//! The calls of a deployment as the HTTP and WebSocket layers see them. On one node
//! every request goes to the local SFU. With Redis, each call lives on the node that
//! started it: requests for it are sent there over the broker and answered the same
//! way, and a task keeps this node's call records alive and asks the other nodes which
//! participants' sessions hold sockets there (a participant leaves after 10 s without
//! any; see `sockets`).

use super::{Placement, RemoteCall, RemoteError, RemoteReply, Sfu, SfuError, SocketsElsewhere};
use crate::broker::{Broadcast, Broker};
use crate::realtime::Hub;
use chatter_core::protocol::ws::{CallCommand, CallSignal};
use chatter_core::protocol::{CallInfo, JoinedCall};
use chatter_core::{CallId, ChatId, SessionId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How long a request waits for the hosting node.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

/// Calls: the local SFU, and the way to calls hosted elsewhere.
#[derive(Debug, Clone)]
pub struct Calls {
    sfu: Sfu,
    remote: Option<Arc<Remote>>,
}

#[derive(Debug)]
struct Remote {
    placement: Arc<dyn Placement>,
    broker: Arc<dyn Broker>,
    /// This node's sockets, for other nodes' questions.
    hub: Arc<Hub>,
    /// Other nodes' answers.
    elsewhere: Arc<SocketsElsewhere>,
    pending: Mutex<HashMap<u64, oneshot::Sender<RemoteReply>>>,
    next: AtomicU64,
}

impl Calls {
    /// Every call on this node.
    pub fn local(sfu: Sfu) -> Self {
        Self { sfu, remote: None }
    }

    /// Calls over several nodes: placed with `placement`, requests carried by `broker`.
    /// Every `refresh` this node's records are renewed (they live three times that) and
    /// the other nodes are asked which participants' sessions hold a socket there; their
    /// answers go to `elsewhere`.
    pub fn distributed(
        sfu: Sfu,
        placement: Arc<dyn Placement>,
        broker: Arc<dyn Broker>,
        hub: Arc<Hub>,
        elsewhere: Arc<SocketsElsewhere>,
        refresh: Duration,
    ) -> Self {
        let remote =
            Arc::new(Remote { placement, broker, hub, elsewhere, pending: Mutex::default(), next: AtomicU64::new(1) });
        tokio::spawn(keep_records(sfu.clone(), Arc::downgrade(&remote), refresh));
        Self { sfu, remote: Some(remote) }
    }

    /// Joins the chat's call (see [`Sfu::join`]) on whichever node hosts it.
    pub async fn join(&self, chat_id: ChatId, user_id: UserId, session_id: SessionId) -> Result<JoinedCall, SfuError> {
        let Some(remote) = &self.remote else { return self.sfu.join(chat_id, user_id, session_id).await };
        let host = remote.placement.claim(&chat_id).await?;
        match self.ask(&host, RemoteCall::Join { chat_id, user_id, session_id }).await? {
            RemoteReply::Joined { joined } => Ok(joined),
            other => Err(unexpected(other)),
        }
    }

    /// Leaves the chat's call.
    pub async fn leave(&self, chat_id: ChatId, session_id: SessionId) -> Result<(), SfuError> {
        let Some(remote) = &self.remote else { return self.sfu.leave(chat_id, session_id).await };
        let host = remote.placement.host_of_chat(&chat_id).await?.ok_or(SfuError::NotInCall)?;
        self.ask(&host, RemoteCall::Leave { chat_id, session_id }).await.map(|_| ())
    }

    /// The chat's running call, as `session_id` sees it (see [`Sfu::call`]).
    pub async fn call(&self, chat_id: ChatId, session_id: SessionId) -> Result<Option<CallInfo>, SfuError> {
        let Some(remote) = &self.remote else { return self.sfu.call(chat_id, Some(session_id)).await };
        let Some(host) = remote.placement.host_of_chat(&chat_id).await? else { return Ok(None) };
        match self.ask(&host, RemoteCall::Info { chat_id, session_id: Some(session_id) }).await? {
            RemoteReply::Info { info } => Ok(info),
            other => Err(unexpected(other)),
        }
    }

    /// SDP or ICE from the session's participant.
    pub async fn signal(&self, session_id: SessionId, signal: CallSignal) -> Result<(), SfuError> {
        let Some(remote) = &self.remote else { return self.sfu.signal(session_id, signal).await };
        super::check_signal(&signal)?;
        let host = remote.placement.host_of_call(signal.call_id()).await?.ok_or(SfuError::NotInCall)?;
        self.ask(&host, RemoteCall::Signal { session_id, signal }).await.map(|_| ())
    }

    /// Publish or mute from the session's participant.
    pub async fn command(&self, session_id: SessionId, command: CallCommand) -> Result<(), SfuError> {
        let Some(remote) = &self.remote else { return self.sfu.command(session_id, command).await };
        let host = remote.placement.host_of_call(command.call_id()).await?.ok_or(SfuError::NotInCall)?;
        self.ask(&host, RemoteCall::Command { session_id, command }).await.map(|_| ())
    }

    /// Runs `call` on `host`: here, or there over the broker.
    async fn ask(&self, host: &str, call: RemoteCall) -> Result<RemoteReply, SfuError> {
        let Some(remote) = &self.remote else { return self.run_here(call).await };
        if host == remote.placement.node() {
            return self.run_here(call).await;
        }
        let id = remote.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        remote.pending.lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
        let from = remote.placement.node().to_owned();
        remote.broker.publish(Broadcast::CallRequest { to: host.to_owned(), from, id, call });
        let answer = tokio::time::timeout(ANSWER_WITHIN, rx).await;
        remote.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        match answer {
            Ok(Ok(RemoteReply::Failed { error })) => Err(error.into()),
            Ok(Ok(reply)) => Ok(reply),
            _ => Err(SfuError::Unavailable("the node hosting the call does not answer".into())),
        }
    }

    /// Runs a request for a call hosted here.
    async fn run_here(&self, call: RemoteCall) -> Result<RemoteReply, SfuError> {
        match call {
            RemoteCall::Join { chat_id, user_id, session_id } => {
                let joined = self.sfu.join(chat_id.clone(), user_id, session_id).await?;
                if let Some(remote) = &self.remote {
                    // Before the answer: the client signals for this call id at once.
                    remote.placement.hold(&[(chat_id, joined.call_id.clone())]).await?;
                }
                Ok(RemoteReply::Joined { joined })
            }
            RemoteCall::Leave { chat_id, session_id } => {
                self.sfu.leave(chat_id, session_id).await.map(|()| RemoteReply::Done)
            }
            RemoteCall::Info { chat_id, session_id } => {
                self.sfu.call(chat_id, session_id).await.map(|info| RemoteReply::Info { info })
            }
            RemoteCall::Signal { session_id, signal } => {
                self.sfu.signal(session_id, signal).await.map(|()| RemoteReply::Done)
            }
            RemoteCall::Command { session_id, command } => {
                self.sfu.command(session_id, command).await.map(|()| RemoteReply::Done)
            }
        }
    }

    /// What the hub calls with call requests and replies from the broker. It holds the
    /// calls weakly: the hub must not keep the broker alive after the server stops.
    pub fn listener(&self) -> impl Fn(&Broadcast) + Send + Sync + 'static {
        let sfu = self.sfu.clone();
        let remote = self.remote.as_ref().map(Arc::downgrade);
        move |broadcast| {
            if let Some(remote) = remote.as_ref().and_then(std::sync::Weak::upgrade) {
                Calls { sfu: sfu.clone(), remote: Some(remote) }.handle(broadcast);
            }
        }
    }

    /// A call request or reply from the broker.
    pub fn handle(&self, broadcast: &Broadcast) {
        let Some(remote) = &self.remote else { return };
        match broadcast {
            Broadcast::CallRequest { to, from, id, call } if to == remote.placement.node() => {
                let (calls, from, id, call) = (self.clone(), from.clone(), *id, call.clone());
                tokio::spawn(async move {
                    let reply = match calls.run_here(call).await {
                        Ok(reply) => reply,
                        Err(e) => RemoteReply::Failed { error: RemoteError::from(&e) },
                    };
                    if let Some(remote) = &calls.remote {
                        remote.broker.publish(Broadcast::CallReply { to: from, id, reply });
                    }
                });
            }
            Broadcast::CallReply { to, id, reply } if to == remote.placement.node() => {
                if let Some(waiting) = remote.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(id) {
                    let _ = waiting.send(reply.clone());
                }
            }
            Broadcast::SocketsAsked { from, sessions } if from != remote.placement.node() => {
                let held: Vec<SessionId> = sessions.iter().filter(|s| remote.hub.has_session(s)).cloned().collect();
                if !held.is_empty() {
                    remote.broker.publish(Broadcast::SocketsHeld { to: from.clone(), sessions: held });
                }
            }
            Broadcast::SocketsHeld { to, sessions } if to == remote.placement.node() => {
                remote.elsewhere.held(sessions, Instant::now());
            }
            _ => {}
        }
    }
}

fn unexpected(reply: RemoteReply) -> SfuError {
    SfuError::Unavailable(format!("unexpected answer from the call's node: {reply:?}"))
}

/// Renews this node's call records, releases those of ended calls, and asks the other
/// nodes which participants' sessions hold sockets there; until the calls front is
/// dropped.
async fn keep_records(sfu: Sfu, remote: std::sync::Weak<Remote>, every: Duration) {
    let mut held: HashSet<(ChatId, CallId)> = HashSet::new();
    let mut hearing_before = None;
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let Some(remote) = remote.upgrade() else { return };
        let Ok(running) = sfu.running().await else { return };
        let now: HashSet<(ChatId, CallId)> = running.iter().map(|c| (c.chat_id.clone(), c.call_id.clone())).collect();
        let list: Vec<(ChatId, CallId)> = now.iter().cloned().collect();
        let redis_answers = match remote.placement.hold(&list).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "call records not renewed");
                false
            }
        };
        for (chat_id, call_id) in held.difference(&now) {
            let chat_still_here = now.iter().any(|(c, _)| c == chat_id);
            remote.placement.release((!chat_still_here).then_some(chat_id), call_id).await;
        }
        held = now;
        let away: Vec<SessionId> = running
            .into_iter()
            .flat_map(|c| c.participants)
            .map(|(session, _)| session)
            .filter(|session| !remote.hub.has_session(session))
            .collect();
        let at = Instant::now();
        // Answers to the last round's question came through only if Redis answered and
        // this node heard the others all along; else keep what was known.
        let hearing = remote.broker.hearing();
        if !redis_answers || hearing.is_none() || hearing != hearing_before {
            remote.elsewhere.unknown_round(at);
        }
        hearing_before = hearing;
        if !away.is_empty() {
            let from = remote.placement.node().to_owned();
            remote.broker.publish(Broadcast::SocketsAsked { from, sessions: away });
        }
        remote.elsewhere.forget_old(at, every * 10);
    }
}
