//! WebSocket frames: JSON text, one object each, with a `type`.

use crate::id::{CallId, ChatId, ParticipantId, SessionId, UserId};
use crate::model::{Chat, ChatEvent};
use crate::protocol::call::{CallLeaveReason, Participant, Track, TrackKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A frame from the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerFrame {
    /// A chat event, numbered by the chat's `event_seq`.
    Event(EventFrame),
    /// Anything else.
    Other(ServerMessage),
}

/// A chat event on the wire; `ref` is set only on the sender's socket for a `send`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFrame {
    /// The event.
    #[serde(flatten)]
    pub event: ChatEvent,
    /// The `ref` of the `send` command that caused it, on the sender's socket.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A server frame that is not a chat event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerMessage {
    /// Authenticated; live events flow from here on.
    #[serde(rename = "ready")]
    Ready {
        /// Whose socket it is.
        user_id: UserId,
        /// Which session.
        session_id: SessionId,
        /// How often the server pings.
        heartbeat_ms: u64,
    },
    /// The user was added to a chat.
    #[serde(rename = "chat.added")]
    ChatAdded {
        /// The chat.
        chat: Chat,
    },
    /// The user was removed from a chat, or it was deleted.
    #[serde(rename = "chat.removed")]
    ChatRemoved {
        /// Which chat.
        chat_id: ChatId,
    },
    /// Too many events to replay: re-read the chat.
    #[serde(rename = "chat.reset")]
    ChatReset {
        /// Which chat.
        chat_id: ChatId,
        /// Its newest event_seq now.
        last_event_seq: u64,
    },
    /// A `resume` replay is complete.
    #[serde(rename = "resumed")]
    Resumed {},
    /// Someone is typing (expires after 6 s).
    #[serde(rename = "typing")]
    Typing {
        /// Where.
        chat_id: ChatId,
        /// Who.
        user_id: UserId,
    },
    /// Someone's read marker moved.
    #[serde(rename = "read")]
    Read {
        /// Where.
        chat_id: ChatId,
        /// Who.
        user_id: UserId,
        /// Up to which seq.
        seq: u64,
    },
    /// Someone came online or went offline.
    #[serde(rename = "presence")]
    Presence {
        /// Who.
        user_id: UserId,
        /// Online or not.
        online: bool,
    },
    /// A command failed or a frame was bad.
    #[serde(rename = "error")]
    Error {
        /// Error code, as in REST errors.
        code: String,
        /// Explanation.
        message: String,
        /// The input field at fault, if any (as in REST errors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        /// The `ref` of the failed command.
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// Answer to `ping`.
    #[serde(rename = "pong")]
    Pong {},
    /// A call started in a chat.
    #[serde(rename = "call.started")]
    CallStarted {
        /// The chat.
        chat_id: ChatId,
        /// The call.
        call_id: CallId,
    },
    /// A call ended.
    #[serde(rename = "call.ended")]
    CallEnded {
        /// The chat.
        chat_id: ChatId,
        /// The call.
        call_id: CallId,
    },
    /// Call signalling for the socket's own participant.
    #[serde(untagged)]
    CallSignal(CallSignal),
    /// What happens in a call the session is in.
    #[serde(untagged)]
    Call(CallEvent),
}

/// A frame from the client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ClientFrame {
    /// Authenticate a socket opened without credentials.
    #[serde(rename = "auth")]
    Auth {
        /// The bearer token.
        token: String,
    },
    /// Replay every event after these event_seqs, then `resumed`.
    #[serde(rename = "resume")]
    Resume {
        /// Chat id → last event_seq the client has.
        chats: BTreeMap<ChatId, u64>,
    },
    /// Post a message.
    #[serde(rename = "send")]
    Send {
        /// Echoed on the answer.
        #[serde(rename = "ref")]
        reference: String,
        /// Where.
        chat_id: ChatId,
        /// The text.
        text: String,
        /// Idempotency key.
        client_id: String,
        /// The message replied to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// The user is typing.
    #[serde(rename = "typing")]
    Typing {
        /// Where.
        chat_id: ChatId,
    },
    /// Move the read marker.
    #[serde(rename = "read")]
    Read {
        /// Where.
        chat_id: ChatId,
        /// Up to which seq.
        seq: u64,
    },
    /// Keep-alive at the application level.
    #[serde(rename = "ping")]
    Ping {},
    /// Call signalling for the session's own participant.
    #[serde(untagged)]
    CallSignal(CallSignal),
    /// A participant's own tracks.
    #[serde(untagged)]
    Call(CallCommand),
}

/// Call signalling, both ways (API.md "Calls"): SDP and ICE for the sender's own
/// participant in `call_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CallSignal {
    /// An SDP offer.
    #[serde(rename = "call.offer")]
    Offer {
        /// The call.
        call_id: CallId,
        /// The SDP.
        sdp: String,
    },
    /// An SDP answer.
    #[serde(rename = "call.answer")]
    Answer {
        /// The call.
        call_id: CallId,
        /// The SDP.
        sdp: String,
    },
    /// A trickled ICE candidate (the browser's `RTCIceCandidateInit`).
    #[serde(rename = "call.ice")]
    Ice {
        /// The call.
        call_id: CallId,
        /// The candidate.
        candidate: IceCandidate,
    },
}

impl CallSignal {
    /// The call it is about.
    pub fn call_id(&self) -> &CallId {
        match self {
            CallSignal::Offer { call_id, .. }
            | CallSignal::Answer { call_id, .. }
            | CallSignal::Ice { call_id, .. } => call_id,
        }
    }
}

/// A trickled ICE candidate, as the browser's `RTCIceCandidateInit` names its fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    /// The `candidate:` attribute; empty for the end of candidates.
    pub candidate: String,
    /// The m-line's mid.
    #[serde(rename = "sdpMid", default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// The m-line's index.
    #[serde(rename = "sdpMLineIndex", default, skip_serializing_if = "Option::is_none")]
    pub sdp_mline_index: Option<u16>,
    /// The ICE username fragment.
    #[serde(rename = "usernameFragment", default, skip_serializing_if = "Option::is_none")]
    pub username_fragment: Option<String>,
}

/// What a participant tells the server about its own tracks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CallCommand {
    /// The client will add (or has removed) a track of this kind: sent before the
    /// offer that adds it, so the server knows a screen from a camera.
    #[serde(rename = "call.publish")]
    Publish {
        /// The call.
        call_id: CallId,
        /// What the track carries.
        kind: TrackKind,
        /// Added or removed.
        enabled: bool,
    },
    /// Mute or unmute one of the participant's own tracks.
    #[serde(rename = "call.mute")]
    Mute {
        /// The call.
        call_id: CallId,
        /// Which track.
        track_id: String,
        /// Muted or not.
        muted: bool,
    },
}

impl CallCommand {
    /// The call it is about.
    pub fn call_id(&self) -> &CallId {
        match self {
            CallCommand::Publish { call_id, .. } | CallCommand::Mute { call_id, .. } => call_id,
        }
    }
}

/// What happens in a call, sent to its participants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CallEvent {
    /// Someone joined the call.
    #[serde(rename = "call.participant_joined")]
    ParticipantJoined {
        /// The call.
        call_id: CallId,
        /// The participant.
        participant: Participant,
    },
    /// Someone left the call.
    #[serde(rename = "call.participant_left")]
    ParticipantLeft {
        /// The call.
        call_id: CallId,
        /// Who.
        participant_id: ParticipantId,
        /// Why.
        reason: CallLeaveReason,
    },
    /// A track was added or changed (muted, or offered to this receiver under `mid`).
    #[serde(rename = "call.track")]
    Track {
        /// The call.
        call_id: CallId,
        /// Whose.
        participant_id: ParticipantId,
        /// The track.
        track: Track,
    },
    /// A track was removed.
    #[serde(rename = "call.track_removed")]
    TrackRemoved {
        /// The call.
        call_id: CallId,
        /// Whose.
        participant_id: ParticipantId,
        /// Which.
        track_id: String,
    },
    /// Who is speaking now, loudest first (empty: nobody).
    #[serde(rename = "call.active_speaker")]
    ActiveSpeaker {
        /// The call.
        call_id: CallId,
        /// The speakers.
        participant_ids: Vec<ParticipantId>,
    },
}

impl CallEvent {
    /// The call it is about.
    pub fn call_id(&self) -> &CallId {
        match self {
            CallEvent::ParticipantJoined { call_id, .. }
            | CallEvent::ParticipantLeft { call_id, .. }
            | CallEvent::Track { call_id, .. }
            | CallEvent::TrackRemoved { call_id, .. }
            | CallEvent::ActiveSpeaker { call_id, .. } => call_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChatEventKind, LeaveReason};

    #[test]
    fn chat_event_frames_carry_type_chat_id_event_seq_and_ref() {
        let frame = ServerFrame::Event(EventFrame {
            event: ChatEvent {
                chat_id: ChatId::new("c1"),
                event_seq: 7,
                kind: ChatEventKind::MemberLeft { user_id: UserId::new("u1"), reason: LeaveReason::Removed },
            },
            reference: Some("r1".into()),
        });
        let json = serde_json::to_value(&frame).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "chat.member_left", "chat_id": "c1", "event_seq": 7,
                "user_id": "u1", "reason": "removed", "ref": "r1"})
        );
        assert_eq!(serde_json::from_value::<ServerFrame>(json).unwrap(), frame);
    }

    #[test]
    fn other_server_frames_round_trip() {
        for json in [
            serde_json::json!({"type": "resumed"}),
            serde_json::json!({"type": "typing", "chat_id": "c", "user_id": "u"}),
            serde_json::json!({"type": "chat.reset", "chat_id": "c", "last_event_seq": 1200}),
            serde_json::json!({"type": "call.ice", "call_id": "k", "candidate": {"candidate": "x", "sdpMid": "0"}}),
            serde_json::json!({"type": "call.participant_left", "call_id": "k", "participant_id": "p", "reason": "ice_failed"}),
            serde_json::json!({"type": "call.ended", "chat_id": "c", "call_id": "k"}),
        ] {
            let frame: ServerFrame = serde_json::from_value(json.clone()).unwrap();
            assert!(matches!(frame, ServerFrame::Other(_)));
            assert_eq!(serde_json::to_value(&frame).unwrap(), json);
        }
    }

    #[test]
    fn client_frames_parse() {
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"send","ref":"1","chat_id":"c","text":"hi","client_id":"k"}"#).unwrap();
        assert!(matches!(f, ClientFrame::Send { .. }));
        let f: ClientFrame = serde_json::from_str(r#"{"type":"resume","chats":{"c":3}}"#).unwrap();
        assert_eq!(f, ClientFrame::Resume { chats: [(ChatId::new("c"), 3)].into() });
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"call.mute","call_id":"k","track_id":"t","muted":true}"#).unwrap();
        assert!(matches!(f, ClientFrame::Call(CallCommand::Mute { .. })));
        let f: ClientFrame = serde_json::from_str(r#"{"type":"call.offer","call_id":"k","sdp":"v=0"}"#).unwrap();
        assert!(matches!(f, ClientFrame::CallSignal(CallSignal::Offer { .. })));
        assert!(
            serde_json::from_str::<ClientFrame>(
                r#"{"type":"call.publish","call_id":"k","kind":"hologram","enabled":true}"#
            )
            .is_err()
        );
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nope"}"#).is_err());
    }
}
