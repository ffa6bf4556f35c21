//! Calls on the wire: the REST bodies of joining and reading a call, and the
//! participants and tracks that call frames carry.

use crate::id::{CallId, ParticipantId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a track carries.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    /// A microphone.
    Audio,
    /// A camera.
    Video,
    /// A shared screen (video on the wire).
    Screen,
}

impl TrackKind {
    /// Whether the track travels as video.
    pub fn is_video(self) -> bool {
        !matches!(self, TrackKind::Audio)
    }

    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Audio => "audio",
            TrackKind::Video => "video",
            TrackKind::Screen => "screen",
        }
    }
}

impl fmt::Display for TrackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrackKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "audio" => Ok(TrackKind::Audio),
            "video" => Ok(TrackKind::Video),
            "screen" => Ok(TrackKind::Screen),
            other => Err(format!("unknown track kind `{other}` (audio, video or screen)")),
        }
    }
}

/// One published track of a participant.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    /// Unique in the call.
    pub track_id: String,
    /// What it carries.
    pub kind: TrackKind,
    /// The `mid` of the m-line carrying it on the receiving connection: the publisher's
    /// own mid in its own view, the mid the server offered in everyone else's; `None`
    /// while the server has not offered it to this receiver yet.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub mid: Option<String>,
    /// Whether the publisher muted it.
    pub muted: bool,
}

/// One device in a call.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Unique in the call.
    pub participant_id: ParticipantId,
    /// Whose device it is.
    pub user_id: UserId,
    /// What it publishes.
    pub tracks: Vec<Track>,
}

/// A STUN or TURN server for the client's peer connection (the browser's `RTCIceServer`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` or `turn:`/`turns:` URLs.
    pub urls: Vec<String>,
    /// The TURN username (time-limited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The TURN password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// `POST /v1/chats/{id}/call`: the caller is in the chat's call.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedCall {
    /// The call.
    pub call_id: CallId,
    /// The caller's place in it.
    pub participant_id: ParticipantId,
    /// Everyone in the call, the caller included.
    pub participants: Vec<Participant>,
    /// Servers for the peer connection.
    pub ice_servers: Vec<IceServer>,
}

/// `GET /v1/chats/{id}/call`: the running call.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    /// The call.
    pub call_id: CallId,
    /// Everyone in it.
    pub participants: Vec<Participant>,
}

/// Why a participant left a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallLeaveReason {
    /// It asked to leave.
    Left,
    /// Its session had no open socket for too long.
    Disconnected,
    /// Its media connection failed.
    IceFailed,
    /// It was removed (left the chat, session ended, or joined again from the same session).
    Removed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_and_track_shapes() {
        let p = Participant {
            participant_id: ParticipantId::new("p1"),
            user_id: UserId::new("u1"),
            tracks: vec![Track { track_id: "t1".into(), kind: TrackKind::Screen, mid: Some("2".into()), muted: false }],
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"participant_id": "p1", "user_id": "u1",
                "tracks": [{"track_id": "t1", "kind": "screen", "mid": "2", "muted": false}]})
        );
        assert_eq!("screen".parse::<TrackKind>(), Ok(TrackKind::Screen));
        assert!("webcam".parse::<TrackKind>().is_err());
        assert_eq!(serde_json::to_value(CallLeaveReason::IceFailed).unwrap(), "ice_failed");
    }
}
