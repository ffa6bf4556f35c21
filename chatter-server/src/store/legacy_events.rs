//! A database as servers before event records wrote it: chat events that carry whole
//! messages and profiles, including text deleted or edited since and the profile of an
//! account deleted since. Each backend's migration test loads it with the schema of
//! that time, migrates, and checks that replay shows only what exists now.

#![allow(clippy::unwrap_used)] // test code: a failed step is a failed test

use chatter_core::model::{ChatEvent, ChatEventKind, DELETED_USER_NAME, Message, Role, User};
use chatter_core::store::Store;
use chatter_core::{ChatId, MessageId, Timestamp, UserId};

const CHAT: &str = "c-legacy";
const OLD_TEXTS: [&str; 4] = ["SECRET plan", "first draft", "Bob Secretname", "bob's secret bio"];

fn at(n: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + n)
}

fn message(id: &str, seq: u64, text: &str, edited: bool, deleted: bool) -> Message {
    Message {
        id: MessageId::new(id),
        chat_id: ChatId::new(CHAT),
        seq,
        sender_id: UserId::new("u-bob"),
        text: text.to_owned(),
        client_id: None,
        reply_to: None,
        created_at: at(seq as i64),
        edited_at: edited.then(|| at(100)),
        deleted,
    }
}

fn bob(display_name: &str, bio: &str, deleted: bool) -> User {
    User {
        id: UserId::new("u-bob"),
        username: "bob".into(),
        display_name: display_name.into(),
        bio: bio.into(),
        avatar_url: String::new(),
        created_at: at(0),
        deleted,
    }
}

/// An SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The statements that fill a database of the first schema (plain SQL both backends
/// take): bob joined, posted "SECRET plan" (deleted since) and "first draft" (edited
/// since to "final words"), then deleted his account.
pub(crate) fn fill_sql() -> String {
    let payloads = [
        ChatEventKind::MemberJoined { user: bob("Bob Secretname", "bob's secret bio", false), role: Role::Member },
        ChatEventKind::MessageCreated { message: message("m-1", 1, "SECRET plan", false, false) },
        ChatEventKind::MessageCreated { message: message("m-2", 2, "first draft", false, false) },
        ChatEventKind::MessageEdited { message: message("m-2", 2, "final words", true, false) },
        ChatEventKind::MessageDeleted { message_id: MessageId::new("m-1"), seq: 1 },
    ];
    let events: Vec<String> = payloads
        .iter()
        .enumerate()
        .map(|(i, kind)| format!("('{CHAT}', {}, {})", i + 1, literal(&serde_json::to_string(kind).unwrap())))
        .collect();
    format!(
        "INSERT INTO users (id, username, display_name, display_key, bio, avatar_url, password_hash, created_at, deleted)
             VALUES ('u-alice', 'alice', 'Alice', 'alice', '', '', 'h', {c0}, FALSE),
                    ('u-bob', 'bob', {deleted}, {deleted_key}, '', '', NULL, {c0}, TRUE);
         INSERT INTO chats (id, kind, title, title_key, visibility, owner_id, member_count, last_seq, last_event_seq,
                            created_at, last_activity_at)
             VALUES ('{CHAT}', 'group', 'Old', 'old', 'public', 'u-alice', 2, 2, 5, 0, 0);
         INSERT INTO members (chat_id, user_id, role, joined_at) VALUES ('{CHAT}', 'u-alice', 'owner', 0),
                                                                        ('{CHAT}', 'u-bob', 'member', 1);
         INSERT INTO messages (chat_id, seq, id, sender_id, text, created_at, edited_at, deleted, event_seq)
             VALUES ('{CHAT}', 1, 'm-1', 'u-bob', '', {c1}, NULL, TRUE, 2),
                    ('{CHAT}', 2, 'm-2', 'u-bob', 'final words', {c2}, {edited}, FALSE, 3);
         INSERT INTO chat_events (chat_id, event_seq, payload) VALUES {events};",
        deleted = literal(DELETED_USER_NAME),
        deleted_key = literal(&DELETED_USER_NAME.to_lowercase()),
        c0 = at(0).as_micros(),
        c1 = at(1).as_micros(),
        c2 = at(2).as_micros(),
        edited = at(100).as_micros(),
        events = events.join(", "),
    )
}

/// After the migration, replay shows the chat as it is now and none of the old text.
pub(crate) async fn assert_replay_shows_only_what_exists_now(store: &dyn Store) {
    let events = store.chat_events(&ChatId::new(CHAT), 0, 10).await.unwrap();
    let replayed = serde_json::to_string(&events).unwrap();
    for old in OLD_TEXTS {
        assert!(!replayed.contains(old), "{old:?} can still be read back: {replayed}");
    }
    let kinds: Vec<ChatEventKind> = events.into_iter().map(|e: ChatEvent| e.kind).collect();
    assert_eq!(
        kinds,
        [
            ChatEventKind::MemberJoined { user: bob(DELETED_USER_NAME, "", true), role: Role::Member },
            ChatEventKind::MessageCreated { message: message("m-1", 1, "", false, true) },
            ChatEventKind::MessageCreated { message: message("m-2", 2, "final words", true, false) },
            ChatEventKind::MessageEdited { message: message("m-2", 2, "final words", true, false) },
            ChatEventKind::MessageDeleted { message_id: MessageId::new("m-1"), seq: 1 },
        ]
    );
}
