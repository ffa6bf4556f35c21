//! Call requests between nodes: a call lives on one node; a request that reaches
//! another (a REST join, a client's signalling on a socket held elsewhere) travels to
//! it over the broker, and its answer comes back the same way.

use super::SfuError;
use chatter_core::protocol::ws::{CallCommand, CallSignal};
use chatter_core::protocol::{CallInfo, JoinedCall};
use chatter_core::{ChatId, SessionId, UserId};
use serde::{Deserialize, Serialize};

/// A request for the node hosting a call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum RemoteCall {
    /// Join the chat's call.
    Join {
        /// The chat.
        chat_id: ChatId,
        /// Who.
        user_id: UserId,
        /// From which session.
        session_id: SessionId,
    },
    /// Leave the chat's call.
    Leave {
        /// The chat.
        chat_id: ChatId,
        /// Whose participant.
        session_id: SessionId,
    },
    /// Read the chat's call.
    Info {
        /// The chat.
        chat_id: ChatId,
        /// Who reads it (a participant sees the mids of its own connection); absent from
        /// nodes older than this field.
        #[serde(default)]
        session_id: Option<SessionId>,
    },
    /// SDP or ICE from a participant.
    Signal {
        /// Whose participant.
        session_id: SessionId,
        /// The signal.
        signal: CallSignal,
    },
    /// Publish or mute from a participant.
    Command {
        /// Whose participant.
        session_id: SessionId,
        /// The command.
        command: CallCommand,
    },
}

/// The hosting node's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum RemoteReply {
    /// Joined.
    Joined {
        /// The join's answer.
        joined: JoinedCall,
    },
    /// The running call, if any.
    Info {
        /// The call.
        info: Option<CallInfo>,
    },
    /// Done.
    Done,
    /// Refused or failed.
    Failed {
        /// What went wrong.
        error: RemoteError,
    },
}

/// An [`SfuError`] on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum RemoteError {
    /// The call is full.
    Full {
        /// The cap.
        max: usize,
    },
    /// Not in the call.
    NotInCall,
    /// No call.
    NoCall,
    /// Not one of the participant's tracks.
    NoSuchTrack {
        /// The track.
        track_id: String,
    },
    /// Bad input.
    Invalid {
        /// Why.
        message: String,
    },
    /// Over a size limit.
    TooLarge {
        /// Which payload.
        what: String,
        /// The limit.
        max: usize,
    },
    /// The host could not serve it.
    Unavailable {
        /// Why.
        message: String,
    },
}

impl From<&SfuError> for RemoteError {
    fn from(e: &SfuError) -> Self {
        match e {
            SfuError::Full { max } => RemoteError::Full { max: *max },
            SfuError::NotInCall => RemoteError::NotInCall,
            SfuError::NoCall => RemoteError::NoCall,
            SfuError::NoSuchTrack(t) => RemoteError::NoSuchTrack { track_id: t.clone() },
            SfuError::Invalid(m) => RemoteError::Invalid { message: m.clone() },
            SfuError::TooLarge { what, max } => RemoteError::TooLarge { what: (*what).to_owned(), max: *max },
            SfuError::Io(_) | SfuError::Stopped | SfuError::Unavailable(_) => {
                RemoteError::Unavailable { message: e.to_string() }
            }
        }
    }
}

impl From<RemoteError> for SfuError {
    fn from(e: RemoteError) -> Self {
        match e {
            RemoteError::Full { max } => SfuError::Full { max },
            RemoteError::NotInCall => SfuError::NotInCall,
            RemoteError::NoCall => SfuError::NoCall,
            RemoteError::NoSuchTrack { track_id } => SfuError::NoSuchTrack(track_id),
            RemoteError::Invalid { message } => SfuError::Invalid(message),
            RemoteError::TooLarge { what, max } => {
                SfuError::TooLarge { what: if what == "sdp" { "sdp" } else { "candidate" }, max }
            }
            RemoteError::Unavailable { message } => SfuError::Unavailable(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatter_core::CallId;

    #[test]
    fn requests_and_errors_round_trip() {
        let call = RemoteCall::Signal {
            session_id: SessionId::new("s"),
            signal: CallSignal::Offer { call_id: CallId::new("k"), sdp: "v=0".into() },
        };
        let json = serde_json::to_string(&call).unwrap();
        assert_eq!(serde_json::from_str::<RemoteCall>(&json).unwrap(), call);
        // From a node older than the reader's session.
        let older = serde_json::from_str::<RemoteCall>(r#"{"call":"info","chat_id":"c"}"#).unwrap();
        assert_eq!(older, RemoteCall::Info { chat_id: ChatId::new("c"), session_id: None });
        for e in [SfuError::Full { max: 3 }, SfuError::TooLarge { what: "sdp", max: 9 }, SfuError::NotInCall] {
            let wire = RemoteError::from(&e);
            let back =
                SfuError::from(serde_json::from_str::<RemoteError>(&serde_json::to_string(&wire).unwrap()).unwrap());
            assert_eq!(back.to_string(), e.to_string());
        }
    }
}
