//! OpenAPI schemas (feature `openapi`) of the types whose rules live in code rather than
//! in their shape: ids, times, and the validated values, whose lengths come from the
//! same constants their `parse` enforces. The protocol types derive theirs and name
//! these for the fields the server parses into a validated value.

use crate::id::{CallId, ChatId, MessageId, ParticipantId, SessionId, UserId};
use crate::model::Chat;
use crate::model::Visibility;
use crate::paging::Cursor;
use crate::protocol::{ChatSummaryView, ChatView, CreateChatRequest};
use crate::time::Timestamp;
use crate::value::{AvatarUrl, Bio, ChatTitle, ClientId, DeviceName, DisplayName, MessageText, Password, Username};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, Discriminator, KnownFormat, ObjectBuilder, OneOfBuilder,
    SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// A character of a single-line value: no control character (Unicode `Cc`).
const LINE_CHAR: &str = r"[^\u0000-\u001F\u007F-\u009F]";
/// A character of a multi-line value: newline and tab besides the single-line ones.
const TEXT_CHAR: &str = r"[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]";
/// A character that survives trimming in a single-line value.
const LINE_VISIBLE: &str = r"[^\s\u0000-\u001F\u007F-\u009F]";
/// A character that survives trimming in a multi-line value.
const TEXT_VISIBLE: &str = r"[^\s\u0000-\u0008\u000B-\u001F\u007F-\u009F]";

/// A string schema: its description, lengths and pattern.
fn string(description: &str, min: usize, max: usize, pattern: String) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length((min > 0).then_some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

/// Only characters of `class`.
fn only(class: &str) -> String {
    format!("^{class}*$")
}

/// Characters of `class`, at least one of them in `visible` (it is not blank once
/// trimmed).
fn not_blank(class: &str, visible: &str) -> String {
    format!("^{class}*{visible}{class}*$")
}

/// Implements `ToSchema` for a type from a function that builds its schema.
macro_rules! schema {
    ($($ty:ty => $schema:expr;)*) => {$(
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl ToSchema for $ty {}
    )*};
}

fn id(what: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).description(Some(format!("An opaque {what} id."))).into()
}

schema! {
    Cursor => ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("Opaque: the `next_cursor` of the previous page. Anything else is 400 `validation_failed` with field `cursor`."))
        .min_length(Some(1))
        .max_length(Some(Cursor::MAX_LEN))
        .pattern(Some("^[A-Za-z0-9_-]+$"))
        .into();
    UserId => id("user");
    ChatId => id("chat");
    MessageId => id("message");
    SessionId => id("session");
    CallId => id("call");
    ParticipantId => id("call participant");
    Timestamp => ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .description(Some("RFC 3339, UTC."))
        .into();
    Username => string(
        &format!(
            "{}-{} of `[a-z0-9_.-]` (capitals are taken and lowercased); unique.",
            Username::MIN_LEN,
            Username::MAX_LEN
        ),
        Username::MIN_LEN,
        Username::MAX_LEN,
        format!("^[A-Za-z0-9_.-]{{{},{}}}$", Username::MIN_LEN, Username::MAX_LEN),
    );
    Password => string(
        &format!(
            "{}-{} characters; no control characters but newline and tab.",
            Password::MIN_LEN,
            Password::MAX_LEN
        ),
        Password::MIN_LEN,
        Password::MAX_LEN,
        only(TEXT_CHAR),
    );
    DisplayName => string(
        &format!(
            "One line of at most {} characters, at least {} once trimmed (it is stored trimmed).",
            DisplayName::MAX_LEN,
            DisplayName::MIN_LEN
        ),
        DisplayName::MIN_LEN,
        DisplayName::MAX_LEN,
        not_blank(LINE_CHAR, LINE_VISIBLE),
    );
    Bio => string(
        &format!("At most {} characters; newline and tab allowed; stored trimmed.", Bio::MAX_LEN),
        Bio::MIN_LEN,
        Bio::MAX_LEN,
        only(TEXT_CHAR),
    );
    AvatarUrl => string(
        &format!("An `https://` URL without spaces, of at most {} characters, or empty to clear it.", AvatarUrl::MAX_LEN),
        AvatarUrl::MIN_LEN,
        AvatarUrl::MAX_LEN,
        r"^(|https://[^/?#\s\u0000-\u001F\u007F-\u009F][^\s\u0000-\u001F\u007F-\u009F]*)$".to_owned(),
    );
    ChatTitle => string(
        &format!(
            "One line of at most {} characters, at least {} once trimmed (it is stored trimmed).",
            ChatTitle::MAX_LEN,
            ChatTitle::MIN_LEN
        ),
        ChatTitle::MIN_LEN,
        ChatTitle::MAX_LEN,
        not_blank(LINE_CHAR, LINE_VISIBLE),
    );
    MessageText => string(
        &format!(
            "At most {} characters, at least {} once trimmed (it is stored trimmed); newline and tab allowed.",
            MessageText::MAX_LEN,
            MessageText::MIN_LEN
        ),
        MessageText::MIN_LEN,
        MessageText::MAX_LEN,
        not_blank(TEXT_CHAR, TEXT_VISIBLE),
    );
    ClientId => string(
        &format!(
            "The sender's idempotency key: one line of {}-{} characters. The same key from the same sender again answers the first message.",
            ClientId::MIN_LEN,
            ClientId::MAX_LEN
        ),
        ClientId::MIN_LEN,
        ClientId::MAX_LEN,
        only(LINE_CHAR),
    );
    DeviceName => string(
        &format!("The device's name in the session list: one line of at most {} characters (stored trimmed).", DeviceName::MAX_LEN),
        DeviceName::MIN_LEN,
        DeviceName::MAX_LEN,
        only(LINE_CHAR),
    );
}

// A summary has every field of a chat, so a member's answer fits both: any of them.
impl PartialSchema for ChatView {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(ChatSummaryView::name()))
            .item(Ref::from_schema_name(Chat::name()))
            .description(Some("A `ChatSummaryView` for members, the plain `Chat` for others who may see it."))
            .into()
    }
}

impl ToSchema for ChatView {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ChatSummaryView::name().into(), ChatSummaryView::schema()));
        ChatSummaryView::schemas(schemas);
        schemas.push((Chat::name().into(), Chat::schema()));
        Chat::schemas(schemas);
    }
}

// Written out rather than derived: each kind is an object that takes no other field
// (the type denies unknown fields), which the derived variants would not say.
impl PartialSchema for CreateChatRequest {
    fn schema() -> RefOr<Schema> {
        let kind = |name: &str| ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name]));
        let members = |description: &str| {
            ArrayBuilder::new().items(Ref::from_schema_name(UserId::name())).description(Some(description))
        };
        let group = ObjectBuilder::new()
            .description(Some("A group: the caller owns it."))
            .property("kind", kind("group"))
            .required("kind")
            .property("title", Ref::from_schema_name(ChatTitle::name()))
            .required("title")
            .property("visibility", Ref::from_schema_name(Visibility::name()))
            .required("visibility")
            .property("members", members("Users to add besides the creator (unknown ones: 404 with field `members`)."))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let direct = ObjectBuilder::new()
            .description(Some("A direct chat with one other user: 201 when new, 200 with the existing one."))
            .property("kind", kind("direct"))
            .required("kind")
            .property(
                "members",
                members("Exactly one user id: the other person.").min_items(Some(1)).max_items(Some(1)),
            )
            .required("members")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        OneOfBuilder::new()
            .item(group)
            .item(direct)
            .discriminator(Some(Discriminator::new("kind")))
            .description(Some("`POST /v1/chats`: a group or a direct chat, by `kind`."))
            .into()
    }
}

impl ToSchema for CreateChatRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for (name, schema) in [
            (UserId::name(), UserId::schema()),
            (ChatTitle::name(), ChatTitle::schema()),
            (Visibility::name(), Visibility::schema()),
        ] {
            schemas.push((name.into(), schema));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The pattern of a schema.
    fn pattern<T: PartialSchema>() -> String {
        let json = serde_json::to_value(T::schema()).unwrap();
        json["pattern"].as_str().unwrap().to_owned()
    }

    #[test]
    fn lengths_come_from_the_rules() {
        let json = serde_json::to_value(DisplayName::schema()).unwrap();
        assert_eq!((json["minLength"].as_u64(), json["maxLength"].as_u64()), (Some(1), Some(64)));
        let json = serde_json::to_value(Bio::schema()).unwrap();
        assert_eq!((json.get("minLength"), json["maxLength"].as_u64()), (None, Some(500)));
        assert_eq!(pattern::<Username>(), "^[A-Za-z0-9_.-]{3,32}$");
    }

    #[test]
    fn patterns_are_built_from_whole_character_classes() {
        assert_eq!(pattern::<ClientId>(), r"^[^\u0000-\u001F\u007F-\u009F]*$");
        let text = pattern::<MessageText>();
        assert!(text.starts_with('^') && text.ends_with('$') && text.contains(r"[^\s"), "{text}");
    }
}
