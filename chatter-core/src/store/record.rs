//! Chat events as backends keep them. A record names the message or the user it is
//! about instead of copying it; replay completes it from the rows as they are now. So
//! message text lives in one place only: deleting or editing a message, or deleting an
//! account, leaves no old copy in the event log for a resume to read back.

use crate::error::StoreError;
use crate::id::{MessageId, UserId};
use crate::model::{Chat, ChatEventKind, LeaveReason, Message, Role, User};
use crate::store::StoreResult;
use serde::{Deserialize, Serialize};

/// A chat event as stored: what happened, with messages and profiles by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventRecord {
    /// A message was posted; replayed with the message as it is now.
    #[serde(rename = "message.created")]
    MessageCreated {
        /// Which message.
        message_id: MessageId,
    },
    /// A message's text changed; replayed with the message as it is now.
    #[serde(rename = "message.edited")]
    MessageEdited {
        /// Which message.
        message_id: MessageId,
    },
    /// A message was deleted.
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        /// Which message.
        message_id: MessageId,
        /// Its seq.
        seq: u64,
    },
    /// The chat's title, visibility or owner changed (the chat as it was then).
    #[serde(rename = "chat.updated")]
    ChatUpdated {
        /// The chat after the change.
        chat: Chat,
    },
    /// Someone joined or was added; replayed with their profile as it is now.
    #[serde(rename = "chat.member_joined")]
    MemberJoined {
        /// Who.
        user_id: UserId,
        /// With which role.
        role: Role,
    },
    /// Someone left, was removed, or deleted their account.
    #[serde(rename = "chat.member_left")]
    MemberLeft {
        /// Who.
        user_id: UserId,
        /// Why.
        reason: LeaveReason,
    },
    /// A member's role changed.
    #[serde(rename = "chat.member_role")]
    MemberRole {
        /// Whose.
        user_id: UserId,
        /// The new role.
        role: Role,
    },
}

impl EventRecord {
    /// The record of an event: its message or profile by id, everything else as it is.
    pub fn of(kind: &ChatEventKind) -> Self {
        match kind {
            ChatEventKind::MessageCreated { message } => Self::MessageCreated { message_id: message.id.clone() },
            ChatEventKind::MessageEdited { message } => Self::MessageEdited { message_id: message.id.clone() },
            ChatEventKind::MessageDeleted { message_id, seq } => {
                Self::MessageDeleted { message_id: message_id.clone(), seq: *seq }
            }
            ChatEventKind::ChatUpdated { chat } => Self::ChatUpdated { chat: chat.clone() },
            ChatEventKind::MemberJoined { user, role } => Self::MemberJoined { user_id: user.id.clone(), role: *role },
            ChatEventKind::MemberLeft { user_id, reason } => {
                Self::MemberLeft { user_id: user_id.clone(), reason: *reason }
            }
            ChatEventKind::MemberRole { user_id, role } => Self::MemberRole { user_id: user_id.clone(), role: *role },
        }
    }

    /// The message whose current row completes this record on replay, if any.
    pub fn message_ref(&self) -> Option<&MessageId> {
        match self {
            Self::MessageCreated { message_id } | Self::MessageEdited { message_id } => Some(message_id),
            _ => None,
        }
    }

    /// The user whose current profile completes this record on replay, if any.
    pub fn user_ref(&self) -> Option<&UserId> {
        match self {
            Self::MemberJoined { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    /// The event to replay: this record completed with the current row of the message
    /// ([`Self::message_ref`]) and profile ([`Self::user_ref`]) it names. A deleted
    /// message replays as its tombstone, an edited one with its current text, a deleted
    /// account with its blanked profile. A named row that is missing is corrupt data.
    pub fn replay(self, message: Option<Message>, user: Option<User>) -> StoreResult<ChatEventKind> {
        let message_named = |id: &MessageId| match message {
            Some(m) if &m.id == id => Ok(m),
            _ => Err(StoreError::Other(format!("an event names message {id}, which is missing"))),
        };
        Ok(match self {
            Self::MessageCreated { message_id } => {
                ChatEventKind::MessageCreated { message: message_named(&message_id)? }
            }
            Self::MessageEdited { message_id } => ChatEventKind::MessageEdited { message: message_named(&message_id)? },
            Self::MessageDeleted { message_id, seq } => ChatEventKind::MessageDeleted { message_id, seq },
            Self::ChatUpdated { chat } => ChatEventKind::ChatUpdated { chat },
            Self::MemberJoined { user_id, role } => match user {
                Some(user) if user.id == user_id => ChatEventKind::MemberJoined { user, role },
                _ => return Err(StoreError::Other(format!("an event names user {user_id}, who is missing"))),
            },
            Self::MemberLeft { user_id, reason } => ChatEventKind::MemberLeft { user_id, reason },
            Self::MemberRole { user_id, role } => ChatEventKind::MemberRole { user_id, role },
        })
    }

    /// The record as stored (JSON).
    pub fn to_json(&self) -> StoreResult<String> {
        serde_json::to_string(self).map_err(|e| StoreError::Other(format!("event record: {e}")))
    }

    /// A stored record.
    pub fn from_json(json: &str) -> StoreResult<Self> {
        serde_json::from_str(json).map_err(|e| StoreError::Other(format!("bad event record: {e}")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::id::ChatId;
    use crate::time::Timestamp;

    fn message(text: &str, deleted: bool) -> Message {
        Message {
            id: MessageId::new("m1"),
            chat_id: ChatId::new("c"),
            seq: 1,
            sender_id: UserId::new("u"),
            text: text.to_owned(),
            client_id: None,
            reply_to: None,
            created_at: Timestamp::from_micros(1),
            edited_at: None,
            deleted,
        }
    }

    fn user(name: &str) -> User {
        User {
            id: UserId::new("u"),
            username: "alice".into(),
            display_name: name.into(),
            bio: String::new(),
            avatar_url: String::new(),
            created_at: Timestamp::from_micros(1),
            deleted: false,
        }
    }

    #[test]
    fn a_record_keeps_no_text_and_no_profile() {
        let created = EventRecord::of(&ChatEventKind::MessageCreated { message: message("SECRET", false) });
        let joined = EventRecord::of(&ChatEventKind::MemberJoined { user: user("Alice Liddell"), role: Role::Member });
        for record in [created, joined] {
            let json = record.to_json().unwrap();
            assert!(!json.contains("SECRET") && !json.contains("Liddell"), "{json}");
            assert_eq!(EventRecord::from_json(&json).unwrap(), record);
        }
    }

    #[test]
    fn replay_takes_the_current_message_and_profile() {
        let created = EventRecord::of(&ChatEventKind::MessageCreated { message: message("SECRET", false) });
        let replayed = created.replay(Some(message("", true)), None).unwrap();
        assert_eq!(replayed, ChatEventKind::MessageCreated { message: message("", true) });
        let joined = EventRecord::of(&ChatEventKind::MemberJoined { user: user("Alice"), role: Role::Admin });
        let replayed = joined.replay(None, Some(user("Deleted user"))).unwrap();
        assert_eq!(replayed, ChatEventKind::MemberJoined { user: user("Deleted user"), role: Role::Admin });
    }

    #[test]
    fn a_missing_or_other_row_is_corrupt_data() {
        let created = EventRecord::of(&ChatEventKind::MessageCreated { message: message("x", false) });
        assert!(created.clone().replay(None, None).is_err());
        let mut other = message("x", false);
        other.id = MessageId::new("m2");
        assert!(created.replay(Some(other), None).is_err());
    }

    #[test]
    fn events_without_references_round_trip_unchanged() {
        let left = ChatEventKind::MemberLeft { user_id: UserId::new("u"), reason: LeaveReason::Deleted };
        assert_eq!(EventRecord::of(&left).replay(None, None).unwrap(), left);
        let deleted = ChatEventKind::MessageDeleted { message_id: MessageId::new("m1"), seq: 1 };
        assert_eq!(EventRecord::of(&deleted).replay(None, None).unwrap(), deleted);
    }
}
