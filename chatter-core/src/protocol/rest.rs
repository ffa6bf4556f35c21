//! REST request and response bodies, and the error shape.

use crate::id::{MessageId, SessionId, UserId};
use crate::model::{Chat, ChatSummary, MemberEntry, Message, Role, Session, User, Visibility};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The body of every error answer: `{"error": {"code", "message", "field"?}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code, message and offending field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Wanted username (lowercased).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::Username))]
    pub username: String,
    /// Password, 8–1024 characters.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::Password))]
    pub password: String,
    /// Display name; defaults to the username.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::DisplayName, nullable = false))]
    pub display_name: Option<String>,
    /// Name of this device, shown in the session list.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::DeviceName, nullable = false))]
    pub device_name: Option<String>,
    /// Also set the `chatter_session` cookie.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = bool, nullable = false))]
    pub cookie: Option<bool>,
}

/// `POST /v1/sessions`: log in.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username (any case).
    pub username: String,
    /// Password.
    pub password: String,
    /// Name of this device.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::DeviceName, nullable = false))]
    pub device_name: Option<String>,
    /// Also set the `chatter_session` cookie.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = bool, nullable = false))]
    pub cookie: Option<bool>,
}

/// The answer to register and login.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session's id.
    pub id: SessionId,
    /// Its device name.
    #[cfg_attr(feature = "openapi", schema(required = true))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    /// The caller's sessions, oldest first.
    pub sessions: Vec<SessionInfo>,
}

/// `PATCH /v1/users/me`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// New display name.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::DisplayName, nullable = false))]
    pub display_name: Option<String>,
    /// New bio.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::Bio, nullable = false))]
    pub bio: Option<String>,
    /// New avatar URL, or empty to clear it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::AvatarUrl, nullable = false))]
    pub avatar_url: Option<String>,
}

/// `POST /v1/users/me/password`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub old_password: String,
    /// The new password.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::Password))]
    pub new_password: String,
}

/// `DELETE /v1/users/me`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The current password.
    pub password: String,
}

/// `GET /v1/users`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    /// Matching users.
    pub users: Vec<User>,
    /// Cursor of the next page; null at the end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateChatRequest {
    /// New title.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::ChatTitle, nullable = false))]
    pub title: Option<String>,
    /// New visibility.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Visibility, nullable = false))]
    pub visibility: Option<Visibility>,
}

/// A chat with the caller's own state in it (`chat_summary` in API.md).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSummaryView {
    /// The chat.
    #[serde(flatten)]
    pub chat: Chat,
    /// The caller's role.
    pub role: Role,
    /// The newest message.
    #[cfg_attr(feature = "openapi", schema(required = true))]
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
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(untagged)]
pub enum ChatView {
    /// The caller is a member.
    Member(Box<ChatSummaryView>),
    /// The caller may see the chat but is not in it.
    Visitor(Chat),
}

/// `GET /v1/chats`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatList {
    /// The caller's chats, most recently active first.
    pub chats: Vec<ChatSummaryView>,
    /// Cursor of the next page; null at the end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// `GET /v1/chats/public`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicChatList {
    /// Matching public groups.
    pub chats: Vec<Chat>,
    /// Cursor of the next page; null at the end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// `POST /v1/chats/{id}/join`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinResponse {
    /// The chat joined.
    pub chat: Chat,
    /// Its newest page of messages, ascending.
    pub messages: Vec<Message>,
}

/// A member as member lists show them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The member's profile.
    pub user: User,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_at: Timestamp,
    /// Their read marker: the highest seq they have read (0: nothing yet). Members see
    /// each other's markers change live as `chat.read` frames.
    #[serde(default)]
    pub read_seq: u64,
}

impl From<MemberEntry> for MemberView {
    fn from(e: MemberEntry) -> Self {
        Self { user: e.user, role: e.member.role, joined_at: e.member.joined_at, read_seq: e.member.read_seq }
    }
}

/// `GET /v1/chats/{id}/members`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    /// Members, oldest first.
    pub members: Vec<MemberView>,
    /// Cursor of the next page; null at the end.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// `POST /v1/chats/{id}/members`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The user to add.
    pub user_id: UserId,
}

/// `PATCH /v1/chats/{id}/members/{user_id}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    /// `admin` or `member` (the owner's role changes only by handover).
    #[cfg_attr(feature = "openapi", schema(pattern = "^(admin|member)$"))]
    pub role: String,
}

/// `POST /v1/chats/{id}/read`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    /// The highest seq read (one past the newest message means the newest).
    #[serde(deserialize_with = "whole_number")]
    #[cfg_attr(feature = "openapi", schema(maximum = 18446744073709551615_u64))]
    pub seq: u64,
}

/// `POST /v1/chats/{id}/messages`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// The text.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::MessageText))]
    pub text: String,
    /// Idempotency key: the same one again returns the first message.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::ClientId, nullable = false))]
    pub client_id: Option<String>,
    /// The message replied to, in the same chat (another chat's: 404 with field `reply_to`).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = MessageId, nullable = false))]
    pub reply_to: Option<MessageId>,
}

/// `PATCH /v1/chats/{id}/messages/{message_id}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditMessageRequest {
    /// The new text.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::value::MessageText))]
    pub text: String,
}

/// `GET /v1/chats/{id}/messages`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    /// Messages in ascending seq.
    pub messages: Vec<Message>,
}

/// Query of paged lists: `limit` and `cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size: default 50; values outside 1..200 are clamped into that range.
    #[cfg_attr(feature = "openapi", param(minimum = -9223372036854775808_i64, maximum = 9223372036854775807_i64))]
    pub limit: Option<i64>,
    /// Where to continue: the `next_cursor` of the previous page (omit for the first).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::paging::Cursor>))]
    pub cursor: Option<String>,
}

/// Query of `GET /v1/chats/public`: `q`, `limit`, `cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Text matched case-insensitively against public group titles (empty or absent:
    /// every public group).
    pub q: Option<String>,
    /// Page size: default 50; values outside 1..200 are clamped into that range.
    #[cfg_attr(feature = "openapi", param(minimum = -9223372036854775808_i64, maximum = 9223372036854775807_i64))]
    pub limit: Option<i64>,
    /// Where to continue: the `next_cursor` of the previous page (omit for the first).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::paging::Cursor>))]
    pub cursor: Option<String>,
}

/// Query of `GET /v1/users`: `q`, `limit`, `cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct UserSearchQuery {
    /// Search text with at least 2 characters once trimmed; matched case-insensitively as
    /// a prefix of the username or of the display name.
    #[cfg_attr(feature = "openapi", param(required = true, pattern = r"^[\s\S]*\S[\s\S]*\S[\s\S]*$"))]
    pub q: Option<String>,
    /// Page size: default 50; values outside 1..200 are clamped into that range.
    #[cfg_attr(feature = "openapi", param(minimum = -9223372036854775808_i64, maximum = 9223372036854775807_i64))]
    pub limit: Option<i64>,
    /// Where to continue: the `next_cursor` of the previous page (omit for the first).
    #[cfg_attr(feature = "openapi", param(value_type = Option<crate::paging::Cursor>))]
    pub cursor: Option<String>,
}

/// Query of `GET /v1/chats/{id}/messages`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Page size: default 50; values outside 1..200 are clamped into that range.
    #[cfg_attr(feature = "openapi", param(minimum = -9223372036854775808_i64, maximum = 9223372036854775807_i64))]
    pub limit: Option<i64>,
    /// The highest `limit` messages with seq < before_seq (not with `after_seq`).
    #[cfg_attr(feature = "openapi", param(maximum = 18446744073709551615_u64))]
    pub before_seq: Option<u64>,
    /// The lowest `limit` messages with seq > after_seq (not with `before_seq`).
    #[cfg_attr(feature = "openapi", param(maximum = 18446744073709551615_u64))]
    pub after_seq: Option<u64>,
}

/// A non-negative integer, also when written with a zero fraction (`3.0`): JSON has one
/// number type, and JSON Schema counts `3.0` as an integer.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(u64),
        Float(f64),
    }
    match Number::deserialize(d)? {
        Number::Int(n) => Ok(n),
        // Below 2^64 (u64::MAX as f64 rounds up to 2^64) and whole: exact in a u64.
        Number::Float(f) if f >= 0.0 && f < u64::MAX as f64 && f.fract() == 0.0 => Ok(f as u64),
        Number::Float(f) => Err(serde::de::Error::custom(format!("expected a non-negative integer, found {f}"))),
    }
}

/// Takes a field that may be absent but never `null`: `#[serde(default)]` makes it
/// `None` when absent, and a `null` is an error (the API says the field is a string,
/// not that it may be null).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
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
    fn optional_fields_may_be_absent_but_not_null() {
        let absent: UpdateProfileRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(absent, UpdateProfileRequest::default());
        assert!(serde_json::from_str::<UpdateProfileRequest>(r#"{"display_name": null}"#).is_err());
        assert!(serde_json::from_str::<SendMessageRequest>(r#"{"text": "hi", "reply_to": null}"#).is_err());
        assert!(serde_json::from_str::<UpdateChatRequest>(r#"{"visibility": null}"#).is_err());
    }

    #[test]
    fn a_seq_may_be_written_with_a_zero_fraction() {
        let read = |json: &str| serde_json::from_str::<ReadRequest>(json).map(|r| r.seq).ok();
        assert_eq!((read(r#"{"seq": 3}"#), read(r#"{"seq": 3.0}"#)), (Some(3), Some(3)));
        assert_eq!(read(r#"{"seq": 18446744073709551615}"#), Some(u64::MAX));
        for bad in [r#"{"seq": 3.5}"#, r#"{"seq": -1}"#, r#"{"seq": 1e20}"#, r#"{"seq": null}"#] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

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
