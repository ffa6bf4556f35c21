//! Calls' media: a WebRTC SFU on str0m. One task owns one UDP socket that serves every
//! participant of every call on this node (ICE-lite; a packet's sender picks its peer
//! connection). Each participant has one peer connection: it publishes its microphone,
//! camera and screen there, and receives everyone else's tracks, which the server offers
//! as they come and go. The participants and tracks themselves are the core's
//! [`Room`](chatter_core::call::Room); this module adds the media.
//!
//! - `engine`: the task: socket, requests, timers, peer connections, calls.
//! - `peer`: one participant's connection and the negotiation of what it receives.
//! - `forward`: media and keyframe requests from publishers to receivers.
//! - `speaker`: who is speaking, from the audio levels publishers send.
//! - `ice`: the STUN/TURN servers handed out, with time-limited TURN credentials.
//! - `calls`, `remote`, `placement`, `sockets`: calls over several nodes.

mod calls;
mod engine;
mod forward;
mod ice;
mod outbox;
mod peer;
mod placement;
mod remote;
mod sink;
mod sockets;
mod speaker;

pub use calls::Calls;
pub use ice::{IceConfig, turn_credentials};
pub use placement::Placement;
pub use remote::{RemoteCall, RemoteError, RemoteReply};
pub use sink::BrokerCallSink;
pub use sockets::{SocketState, SocketsElsewhere};

use chatter_core::protocol::ws::{CallCommand, CallSignal, ServerMessage};
use chatter_core::protocol::{CallInfo, JoinedCall};
use chatter_core::{ChatId, SessionId, UserId};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

/// Largest SDP accepted from a client.
pub const MAX_SDP: usize = 32 * 1024;
/// Largest ICE candidate line accepted from a client.
pub const MAX_CANDIDATE: usize = 1024;

/// How the SFU runs.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// Where the UDP socket binds.
    pub bind: SocketAddr,
    /// The address put in candidates, when clients reach the socket at another one
    /// (NAT, a public IP); its port 0 means the bound port.
    pub public: Option<SocketAddr>,
    /// Participants allowed in one call.
    pub max_participants: usize,
    /// How long a participant whose session has no open socket stays in.
    pub socket_grace: Duration,
    /// How long a participant may take to connect its media before it is dropped.
    pub connect_timeout: Duration,
    /// STUN and TURN servers for clients.
    pub ice: IceConfig,
}

/// Why a call request failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SfuError {
    /// The UDP socket could not be opened.
    #[error("rtc socket: {0}")]
    Io(#[from] std::io::Error),
    /// The call is full.
    #[error("the call is full ({max} participants)")]
    Full {
        /// The cap.
        max: usize,
    },
    /// The session has no participant in that call.
    #[error("you are not in this call")]
    NotInCall,
    /// No call runs in the chat.
    #[error("no call runs in this chat")]
    NoCall,
    /// The track is not one of the participant's own.
    #[error("no such track of yours: {0}")]
    NoSuchTrack(String),
    /// An SDP or candidate could not be used.
    #[error("{0}")]
    Invalid(String),
    /// A payload over its limit.
    #[error("{what} is over {max} bytes")]
    TooLarge {
        /// Which payload.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// The SFU task stopped.
    #[error("calls are not available")]
    Stopped,
    /// The node hosting the call, or the call records, could not be reached.
    #[error("{0}")]
    Unavailable(String),
}

/// Where the SFU's frames go and what it needs to know of sockets: the node's hub and
/// broker (calls are told to the sessions and chats on every node).
pub trait CallSink: Send + Sync + std::fmt::Debug {
    /// Sends `message` to every socket of `session_id`.
    fn to_session(&self, session_id: &SessionId, message: ServerMessage);
    /// Sends `message` to every socket following `chat_id`.
    fn to_chat(&self, chat_id: &ChatId, message: ServerMessage);
    /// Whether `session_id` has an open socket on some node.
    fn socket(&self, session_id: &SessionId) -> SocketState;
}

/// A request to the engine.
#[derive(Debug)]
enum Request {
    Join {
        chat_id: ChatId,
        user_id: UserId,
        session_id: SessionId,
        reply: oneshot::Sender<Result<JoinedCall, SfuError>>,
    },
    Leave {
        chat_id: ChatId,
        session_id: SessionId,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    Info {
        chat_id: ChatId,
        session_id: Option<SessionId>,
        reply: oneshot::Sender<Option<CallInfo>>,
    },
    Signal {
        session_id: SessionId,
        signal: CallSignal,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    Command {
        session_id: SessionId,
        command: CallCommand,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    /// Drops the user's participants from the chat's call (they left the chat).
    MemberRemoved {
        chat_id: ChatId,
        user_id: UserId,
    },
    /// Drops every participant of the session (it ended) in every call.
    SessionEnded {
        session_ids: Vec<SessionId>,
    },
    /// The calls running here, with their participants.
    Running {
        reply: oneshot::Sender<Vec<RunningCall>>,
    },
    /// Ends every call and stops the task (the node is stopping).
    Stop,
    /// Counts of live objects, for leak checks.
    Stats {
        reply: oneshot::Sender<SfuStats>,
    },
}

/// A call running on this node.
#[derive(Debug, Clone)]
pub struct RunningCall {
    /// Its chat.
    pub chat_id: ChatId,
    /// The call.
    pub call_id: chatter_core::CallId,
    /// Each participant's session and user.
    pub participants: Vec<(SessionId, UserId)>,
}

/// Live objects in the SFU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SfuStats {
    /// Calls running.
    pub calls: usize,
    /// Peer connections.
    pub peers: usize,
    /// Tracks received from publishers.
    pub tracks_in: usize,
    /// Tracks sent to receivers.
    pub tracks_out: usize,
    /// Packets forwarded since start.
    pub forwarded: u64,
    /// Media a publisher sent that arrived with a hole retransmission did not fill.
    pub discontinuities: u64,
    /// Keyframe requests sent to publishers.
    pub keyframes_asked: u64,
}

/// A handle on the node's SFU; cheap to clone.
#[derive(Debug, Clone)]
pub struct Sfu {
    requests: mpsc::UnboundedSender<Request>,
    local_addr: SocketAddr,
}

impl Sfu {
    /// Binds the UDP socket and starts the engine task (on the current tokio runtime).
    pub fn start(config: SfuConfig, sink: Arc<dyn CallSink>) -> Result<Self, SfuError> {
        let socket = std::net::UdpSocket::bind(config.bind)?;
        socket.set_nonblocking(true)?;
        outbox::enlarge_buffers(&socket);
        let socket = tokio::net::UdpSocket::from_std(socket)?;
        let local_addr = socket.local_addr()?;
        let (requests, inbox) = mpsc::unbounded_channel();
        engine::Engine::new(socket, Arc::new(config), sink)?.spawn(inbox);
        Ok(Self { requests, local_addr })
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> Result<T, SfuError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(make(reply)).map_err(|_| SfuError::Stopped)?;
        answer.await.map_err(|_| SfuError::Stopped)
    }

    /// Puts the session in the chat's call (starting it), as a new participant; a
    /// participant the session already had there is replaced. The caller checked
    /// that the user is a member of the chat.
    pub async fn join(&self, chat_id: ChatId, user_id: UserId, session_id: SessionId) -> Result<JoinedCall, SfuError> {
        self.ask(|reply| Request::Join { chat_id, user_id, session_id, reply }).await?
    }

    /// Takes the session's participant out of the chat's call.
    pub async fn leave(&self, chat_id: ChatId, session_id: SessionId) -> Result<(), SfuError> {
        self.ask(|reply| Request::Leave { chat_id, session_id, reply }).await?
    }

    /// The chat's running call, as `session_id` sees it: if it is a participant, the
    /// others' tracks carry the mids of its connection (none while not on it yet).
    pub async fn call(&self, chat_id: ChatId, session_id: Option<SessionId>) -> Result<Option<CallInfo>, SfuError> {
        self.ask(|reply| Request::Info { chat_id, session_id, reply }).await
    }

    /// SDP or ICE from the session's participant.
    pub async fn signal(&self, session_id: SessionId, signal: CallSignal) -> Result<(), SfuError> {
        check_signal(&signal)?;
        self.ask(|reply| Request::Signal { session_id, signal, reply }).await?
    }

    /// A publish or mute from the session's participant.
    pub async fn command(&self, session_id: SessionId, command: CallCommand) -> Result<(), SfuError> {
        self.ask(|reply| Request::Command { session_id, command, reply }).await?
    }

    /// The sessions ended (logout, revocation): their participants leave at once.
    pub fn sessions_ended(&self, session_ids: Vec<SessionId>) {
        let _ = self.requests.send(Request::SessionEnded { session_ids });
    }

    /// Ends every call on this node (participants hear `disconnected`) and stops the
    /// SFU: the node is going away.
    pub fn shutdown(&self) {
        let _ = self.requests.send(Request::Stop);
    }

    /// The user left the chat or was removed: their participants leave its call.
    pub fn member_removed(&self, chat_id: ChatId, user_id: UserId) {
        let _ = self.requests.send(Request::MemberRemoved { chat_id, user_id });
    }

    /// The calls running on this node.
    pub async fn running(&self) -> Result<Vec<RunningCall>, SfuError> {
        self.ask(|reply| Request::Running { reply }).await
    }

    /// Counts of live objects.
    pub async fn stats(&self) -> Result<SfuStats, SfuError> {
        self.ask(|reply| Request::Stats { reply }).await
    }
}

fn check_signal(signal: &CallSignal) -> Result<(), SfuError> {
    match signal {
        CallSignal::Offer { sdp, .. } | CallSignal::Answer { sdp, .. } if sdp.len() > MAX_SDP => {
            Err(SfuError::TooLarge { what: "sdp", max: MAX_SDP })
        }
        CallSignal::Ice { candidate, .. } if candidate.candidate.len() > MAX_CANDIDATE => {
            Err(SfuError::TooLarge { what: "candidate", max: MAX_CANDIDATE })
        }
        _ => Ok(()),
    }
}
