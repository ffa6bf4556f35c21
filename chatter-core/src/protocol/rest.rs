//! REST request and response bodies, and the error shape.

use crate::id::{MessageId, SessionId, UserId};
use crate::model::{Chat, ChatSummary, MemberEntry, Message, Role, Session, User, Visibility};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The body of every error answer: `{"error": {"code", "message", "field"?}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code, message and offending field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Machine-readable code (`not_found`, `validation_failed`, …).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The input field at fault, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `POST /v1/users`: register and log in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Wanted username (lowercased).
    pub username: String,
    /// Password, 8–1024 characters.
    pub password: String,
    /// Display name; defaults to the username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Name of this device, shown in the session list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// Also set the `chatter_session` cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<bool>,
}

/// `POST /v1/sessions`: log in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username (any case).
    pub username: String,
    /// Password.
    pub password: String,
    /// Name of this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// Also set the `chatter_session` cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<bool>,
}

/// The answer to register and login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResponse {
    /// The logged-in user.
    pub user: User,
    /// The bearer token: shown once, stored only as a hash.
    pub token: String,
    /// The new session's id.
    pub session_id: SessionId,
}

/// One session in `GET /v1/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session's id.
    pub id: SessionId,
    /// Its device name.
    pub device_name: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_seen_at: Timestamp,
    /// Whether it is the session making the request.
    pub current: bool,
}

impl SessionInfo {
    /// The view of `session` for the caller whose session is `current`.
    pub fn new(session: Session, current: &SessionId) -> Self {
        Self {
            current: &session.id == current,
            id: session.id,
            device_name: session.device_name,
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
        }
    }
}

/// `GET /v1/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    /// The caller's sessions, oldest first.
    pub sessions: Vec<SessionInfo>,
}

/// `PATCH /v1/users/me`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New bio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// New avatar URL, or empty to clear it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// `POST /v1/users/me/password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub old_password: String,
    /// The new password.
    pub new_password: String,
}

/// `DELETE /v1/users/me`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The current password.
    pub password: String,
}

/// `GET /v1/users`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    /// Matching users.
    pub users: Vec<User>,
    /// Cursor of the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// `POST /v1/chats`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CreateChatRequest {
    /// A group.
    Group {
        /// Its title.
        title: String,
        /// Public or private.
        visibility: Visibility,
        /// Users to add besides the creator.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        members: Vec<UserId>,
    },
    /// A direct chat with one other user.
    Direct {
        /// Exactly one user id: the other person.
        members: Vec<UserId>,
    },
}

/// `PATCH /v1/chats/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateChatRequest {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New visibility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

/// A chat with the caller's own state in it (`chat_summary` in API.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSummaryView {
    /// The chat.
    #[serde(flatten)]
    pub chat: Chat,
    /// The caller's role.
    pub role: Role,
    /// The newest message.
    pub last_message: Option<Message>,
    /// Unread messages of others.
    pub unread_count: u64,
    /// The caller's read marker.
    pub read_seq: u64,
}

impl From<ChatSummary> for ChatSummaryView {
    fn from(s: ChatSummary) -> Self {
        Self {
            chat: s.chat,
            role: s.role,
            last_message: s.last_message,
            unread_count: s.unread_count,
            read_seq: s.read_seq,
        }
    }
}

/// `GET /v1/chats/{id}`: a summary for members, the plain chat for others.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatView {
    /// The caller is a member.
    Member(Box<ChatSummaryView>),
    /// The caller may see the chat but is not in it.
    Visitor(Chat),
}

/// `GET /v1/chats`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatList {
    /// The caller's chats, most recently active first.
    pub chats: Vec<ChatSummaryView>,
    /// Cursor of the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// `GET /v1/chats/public`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicChatList {
    /// Matching public groups.
    pub chats: Vec<Chat>,
    /// Cursor of the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// `POST /v1/chats/{id}/join`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinResponse {
    /// The chat joined.
    pub chat: Chat,
    /// Its newest page of messages, ascending.
    pub messages: Vec<Message>,
}

/// A member as member lists show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The member's profile.
    pub user: User,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_at: Timestamp,
}

impl From<MemberEntry> for MemberView {
    fn from(e: MemberEntry) -> Self {
        Self { user: e.user, role: e.member.role, joined_at: e.member.joined_at }
    }
}

/// `GET /v1/chats/{id}/members`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    /// Members, oldest first.
    pub members: Vec<MemberView>,
    /// Cursor of the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// `POST /v1/chats/{id}/members`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The user to add.
    pub user_id: UserId,
}

/// `PATCH /v1/chats/{id}/members/{user_id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    /// `admin` or `member`.
    pub role: String,
}

/// `POST /v1/chats/{id}/read`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// The highest seq read.
    pub seq: u64,
}

/// `POST /v1/chats/{id}/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// The text.
    pub text: String,
    /// Idempotency key: the same one again returns the first message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The message replied to, in the same chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
}

/// `PATCH /v1/chats/{id}/messages/{message_id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditMessageRequest {
    /// The new text.
    pub text: String,
}

/// `GET /v1/chats/{id}/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    /// Messages in ascending seq.
    pub messages: Vec<Message>,
}

/// Query of paged lists: `limit` and `cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size (default 50, clamped to 1..200).
    pub limit: Option<i64>,
    /// Where to continue.
    pub cursor: Option<String>,
}

/// Query of searches: `q`, `limit`, `cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// What to look for.
    pub q: Option<String>,
    /// Page size (default 50, clamped to 1..200).
    pub limit: Option<i64>,
    /// Where to continue.
    pub cursor: Option<String>,
}

/// Query of `GET /v1/chats/{id}/messages`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Page size (default 50, clamped to 1..200).
    pub limit: Option<i64>,
    /// Messages below this seq.
    pub before_seq: Option<u64>,
    /// Messages above this seq.
    pub after_seq: Option<u64>,
}

/// `Debug` for bodies that carry a password or a token: those fields print as `***`.
macro_rules! redacted_debug {
    ($ty:ident { $($field:ident),* } hiding { $($secret:ident),* }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    $(.field(stringify!($secret), &"***"))*
                    .finish()
            }
        }
    };
}

redacted_debug!(RegisterRequest { username, display_name, device_name, cookie } hiding { password });
redacted_debug!(LoginRequest { username, device_name, cookie } hiding { password });
redacted_debug!(ChangePasswordRequest {} hiding { old_password, new_password });
redacted_debug!(DeleteAccountRequest {} hiding { password });
redacted_debug!(AuthResponse { user, session_id } hiding { token });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_passwords() {
        let req =
            LoginRequest { username: "alice".into(), password: "hunter22".into(), device_name: None, cookie: None };
        let shown = format!("{req:?}");
        assert!(shown.contains("alice") && !shown.contains("hunter22"), "{shown}");
        let req = ChangePasswordRequest { old_password: "old-secret".into(), new_password: "new-secret".into() };
        assert!(!format!("{req:?}").contains("secret"));
    }
}
