//! The domain model: users, sessions, chats, members, messages and chat events.

use crate::id::{ChatId, MessageId, SessionId, UserId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A user's public profile. Never carries a password, hash or token.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// Lowercase username, unique and never reused.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Free text about the user.
    pub bio: String,
    /// `https://` URL of the avatar, or empty.
    pub avatar_url: String,
    /// When the account was created.
    pub created_at: Timestamp,
    /// True once the account is deleted: the profile is blanked, messages stay.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub deleted: bool,
}

/// The display name a deleted account shows.
pub const DELETED_USER_NAME: &str = "Deleted user";

/// A login session: one device's token (kept only as a hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The session's id.
    pub id: SessionId,
    /// Whose session it is.
    pub user_id: UserId,
    /// SHA-256 of the bearer token, hex; the token itself is never stored.
    pub token_hash: String,
    /// The device name given at login, if any.
    pub device_name: Option<String>,
    /// When the session was created.
    pub created_at: Timestamp,
    /// When the session was last used (updated at most once a minute).
    pub last_seen_at: Timestamp,
}

/// A chat's kind.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    /// A named chat of any number of members.
    Group,
    /// A chat between exactly two users, unique per pair.
    Direct,
}

/// Who may see and join a group.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone signed in may see and join it.
    Public,
    /// Only members see it.
    Private,
}

/// A member's role in a chat.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A plain member.
    Member,
    /// May add and remove plain members, rename, delete others' messages.
    Admin,
    /// One per group: everything an admin may, plus changing roles.
    Owner,
}

impl Role {
    /// The role's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

impl ChatKind {
    /// The kind's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Group => "group",
            ChatKind::Direct => "direct",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "group" => Some(ChatKind::Group),
            "direct" => Some(ChatKind::Direct),
            _ => None,
        }
    }
}

impl Visibility {
    /// The visibility's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(Visibility::Public),
            "private" => Some(Visibility::Private),
            _ => None,
        }
    }
}

/// A chat as everyone who may see it sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    /// The chat's id.
    pub id: ChatId,
    /// Group or direct.
    pub kind: ChatKind,
    /// The title of a group; null for a direct chat.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub title: Option<String>,
    /// Public or private; direct chats are private.
    pub visibility: Visibility,
    /// The group's owner; null for a direct chat.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub owner_id: Option<UserId>,
    /// How many members it has.
    pub member_count: u64,
    /// The seq of its newest message (0 when empty).
    pub last_seq: u64,
    /// The event_seq of its newest chat event (0 when none).
    pub last_event_seq: u64,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last had a message (or was created): orders the chat list.
    #[serde(skip)]
    pub last_activity_at: Timestamp,
}

/// One user's membership of a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The chat.
    pub chat_id: ChatId,
    /// The member.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_at: Timestamp,
    /// Their read marker: the highest seq they have read (never moves back).
    pub read_seq: u64,
}

/// A message. A deleted one keeps its seq with empty text and `deleted: true`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// The chat it is in.
    pub chat_id: ChatId,
    /// Its place in the chat: 1, 2, 3… with no gaps.
    pub seq: u64,
    /// Who sent it.
    pub sender_id: UserId,
    /// Its text (empty once deleted).
    pub text: String,
    /// The sender's idempotency key, if given.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub client_id: Option<String>,
    /// The message it replies to, in the same chat.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reply_to: Option<MessageId>,
    /// When it was sent.
    pub created_at: Timestamp,
    /// When it was last edited.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub edited_at: Option<Timestamp>,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// Why a member left a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// They left.
    Left,
    /// They were removed by an owner or admin.
    Removed,
    /// Their account was deleted.
    Deleted,
}

/// What changed in a chat. Serialises as the WebSocket frame's `type` and fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ChatEventKind {
    /// A message was posted.
    #[serde(rename = "message.created")]
    MessageCreated {
        /// The new message.
        message: Message,
    },
    /// A message's text changed.
    #[serde(rename = "message.edited")]
    MessageEdited {
        /// The message as it is now.
        message: Message,
    },
    /// A message was deleted (it keeps its seq).
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        /// Which message.
        message_id: MessageId,
        /// Its seq.
        seq: u64,
    },
    /// The chat's title, visibility or owner changed.
    #[serde(rename = "chat.updated")]
    ChatUpdated {
        /// The chat as it is now.
        chat: Chat,
    },
    /// Someone joined or was added.
    #[serde(rename = "chat.member_joined")]
    MemberJoined {
        /// Who.
        user: User,
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

/// A change inside a chat, numbered by the chat's gap-free `event_seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEvent {
    /// The chat it happened in.
    pub chat_id: ChatId,
    /// Its number in the chat: 1, 2, 3… with no gaps.
    pub event_seq: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: ChatEventKind,
}

/// A chat as one member sees it in their chat list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSummary {
    /// The chat.
    pub chat: Chat,
    /// The caller's role.
    pub role: Role,
    /// The newest message, if any.
    pub last_message: Option<Message>,
    /// Other people's non-deleted messages after the read marker.
    pub unread_count: u64,
    /// The caller's read marker.
    pub read_seq: u64,
}

/// A member with their profile, as member lists show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberEntry {
    /// The member's profile.
    pub user: User,
    /// The membership.
    pub member: Member,
}
