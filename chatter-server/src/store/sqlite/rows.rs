//! Mapping between rows and model types.

use super::Cached;
use super::map_err;
use chatter_core::StoreError;
use chatter_core::model::{Chat, ChatEvent, ChatEventKind, ChatKind, Member, Message, Role, Session, User, Visibility};
use chatter_core::store::{EventRecord, StoreResult};
use chatter_core::{ChatId, MessageId, SessionId, Timestamp, UserId};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use std::sync::LazyLock;

pub(super) const USER_COLS: &str = "id, username, display_name, bio, avatar_url, created_at, deleted";
pub(super) const SESSION_COLS: &str = "id, user_id, token_hash, device_name, created_at, last_seen_at";
pub(super) const CHAT_COLS: &str = "c.id, c.kind, c.title, c.visibility, c.owner_id, c.member_count, c.last_seq, c.last_event_seq, c.created_at, c.last_activity_at";
pub(super) const MEMBER_COLS: &str = "m.chat_id, m.user_id, m.role, m.joined_at, m.read_seq";
pub(super) const MESSAGE_COLS: &str =
    "id, chat_id, seq, sender_id, text, client_id, reply_to, created_at, edited_at, deleted";

fn bad(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("bad {what}: {value}").into())
}

fn seq(row: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(row.get::<_, i64>(i)? as u64)
}

fn time(row: &Row<'_>, i: usize) -> rusqlite::Result<Timestamp> {
    Ok(Timestamp::from_micros(row.get(i)?))
}

/// A user from `USER_COLS` starting at column `o`.
pub(super) fn user(row: &Row<'_>, o: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId::new(row.get::<_, String>(o)?),
        username: row.get(o + 1)?,
        display_name: row.get(o + 2)?,
        bio: row.get(o + 3)?,
        avatar_url: row.get(o + 4)?,
        created_at: time(row, o + 5)?,
        deleted: row.get(o + 6)?,
    })
}

pub(super) fn session(row: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId::new(row.get::<_, String>(0)?),
        user_id: UserId::new(row.get::<_, String>(1)?),
        token_hash: row.get(2)?,
        device_name: row.get(3)?,
        created_at: time(row, 4)?,
        last_seen_at: time(row, 5)?,
    })
}

/// A chat from `CHAT_COLS` starting at column 0.
pub(super) fn chat(row: &Row<'_>) -> rusqlite::Result<Chat> {
    let kind: String = row.get(1)?;
    let visibility: String = row.get(3)?;
    Ok(Chat {
        id: ChatId::new(row.get::<_, String>(0)?),
        kind: ChatKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        title: row.get(2)?,
        visibility: Visibility::parse(&visibility).ok_or_else(|| bad("visibility", &visibility))?,
        owner_id: row.get::<_, Option<String>>(4)?.map(UserId::new),
        member_count: seq(row, 5)?,
        last_seq: seq(row, 6)?,
        last_event_seq: seq(row, 7)?,
        created_at: time(row, 8)?,
        last_activity_at: time(row, 9)?,
    })
}

/// A member from `MEMBER_COLS` starting at column `o`.
pub(super) fn member(row: &Row<'_>, o: usize) -> rusqlite::Result<Member> {
    let role: String = row.get(o + 2)?;
    Ok(Member {
        chat_id: ChatId::new(row.get::<_, String>(o)?),
        user_id: UserId::new(row.get::<_, String>(o + 1)?),
        role: Role::parse(&role).ok_or_else(|| bad("role", &role))?,
        joined_at: time(row, o + 3)?,
        read_seq: seq(row, o + 4)?,
    })
}

/// A message from `MESSAGE_COLS` starting at column 0.
pub(super) fn message(row: &Row<'_>) -> rusqlite::Result<Message> {
    message_from(row, 0)
}

/// A message from `MESSAGE_COLS` starting at column `o`.
fn message_from(row: &Row<'_>, o: usize) -> rusqlite::Result<Message> {
    Ok(Message {
        id: MessageId::new(row.get::<_, String>(o)?),
        chat_id: ChatId::new(row.get::<_, String>(o + 1)?),
        seq: seq(row, o + 2)?,
        sender_id: UserId::new(row.get::<_, String>(o + 3)?),
        text: row.get(o + 4)?,
        client_id: row.get(o + 5)?,
        reply_to: row.get::<_, Option<String>>(o + 6)?.map(MessageId::new),
        created_at: time(row, o + 7)?,
        edited_at: row.get::<_, Option<i64>>(o + 8)?.map(Timestamp::from_micros),
        deleted: row.get(o + 9)?,
    })
}

pub(super) fn load_chat(conn: &Connection, id: &str) -> StoreResult<Option<Chat>> {
    conn.cached_row(&format!("SELECT {CHAT_COLS} FROM chats c WHERE c.id = ?1"), [id], chat).optional().map_err(map_err)
}

pub(super) fn require_chat(conn: &Connection, id: &str) -> StoreResult<Chat> {
    load_chat(conn, id)?.ok_or(StoreError::NotFound("chat"))
}

/// The statement of [`load_chat_with_member`] (built once: it runs on every send) and
/// the column its member starts at.
static CHAT_WITH_MEMBER: LazyLock<(String, usize)> = LazyLock::new(|| {
    let sql = format!(
        "SELECT {CHAT_COLS}, {MEMBER_COLS} FROM chats c
         LEFT JOIN members m ON m.chat_id = c.id AND m.user_id = ?2 WHERE c.id = ?1"
    );
    (sql, CHAT_COLS.split(',').count())
});

/// The chat and `user_id`'s membership in it, read in one statement (one snapshot).
pub(super) fn load_chat_with_member(
    conn: &Connection,
    chat_id: &str,
    user_id: &str,
) -> StoreResult<Option<(Chat, Option<Member>)>> {
    let (sql, member_at) = &*CHAT_WITH_MEMBER;
    conn.cached_row(sql, [chat_id, user_id], |r| {
        let member = match r.get::<_, Option<String>>(*member_at)? {
            Some(_) => Some(member(r, *member_at)?),
            None => None,
        };
        Ok((chat(r)?, member))
    })
    .optional()
    .map_err(map_err)
}

pub(super) fn load_member(conn: &Connection, chat_id: &str, user_id: &str) -> StoreResult<Option<Member>> {
    conn.cached_row(
        &format!("SELECT {MEMBER_COLS} FROM members m WHERE m.chat_id = ?1 AND m.user_id = ?2"),
        [chat_id, user_id],
        |r| member(r, 0),
    )
    .optional()
    .map_err(map_err)
}

pub(super) fn load_message(conn: &Connection, chat_id: &str, id: &str) -> StoreResult<Option<Message>> {
    conn.cached_row(
        &format!("SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ?1 AND id = ?2"),
        [chat_id, id],
        message,
    )
    .optional()
    .map_err(map_err)
}

/// Records the chat's next event inside the caller's transaction, as an
/// [`EventRecord`] naming its message or user (the payload copies neither).
pub(super) fn record_event(tx: &Transaction<'_>, chat_id: &ChatId, kind: ChatEventKind) -> StoreResult<ChatEvent> {
    let event_seq: i64 = tx
        .cached_row(
            "UPDATE chats SET last_event_seq = last_event_seq + 1 WHERE id = ?1 RETURNING last_event_seq",
            [chat_id.as_str()],
            |r| r.get(0),
        )
        .map_err(map_err)?;
    let mut kind = kind;
    if let ChatEventKind::ChatUpdated { chat } = &mut kind {
        chat.last_event_seq = event_seq as u64;
    }
    let record = EventRecord::of(&kind);
    tx.cached_exec(
        "INSERT INTO chat_events (chat_id, event_seq, payload, message_id, user_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            chat_id.as_str(),
            event_seq,
            record.to_json()?,
            record.message_ref().map(MessageId::as_str),
            record.user_ref().map(UserId::as_str)
        ],
    )
    .map_err(map_err)?;
    Ok(ChatEvent { chat_id: chat_id.clone(), event_seq: event_seq as u64, kind })
}

/// Reads a chat's events after an event_seq ($1 chat, $2 after, $3 limit), each with
/// the current row of the message and of the user its record names.
pub(super) static EVENTS_QUERY: LazyLock<String> = LazyLock::new(|| {
    let message_cols = prefixed("msg", MESSAGE_COLS);
    let user_cols = prefixed("u", USER_COLS);
    format!(
        "SELECT e.event_seq, e.payload, {message_cols}, {user_cols} FROM chat_events e
         LEFT JOIN messages msg ON msg.chat_id = e.chat_id AND msg.id = e.message_id
         LEFT JOIN users u ON u.id = e.user_id
         WHERE e.chat_id = ?1 AND e.event_seq > ?2 ORDER BY e.event_seq LIMIT ?3"
    )
});

/// An event from a row of [`EVENTS_QUERY`], completed from the rows it joined.
pub(super) fn event(row: &Row<'_>) -> rusqlite::Result<(i64, String, Option<Message>, Option<User>)> {
    let message_at = 2;
    let user_at = message_at + MESSAGE_COLS.split(',').count();
    let message = match row.get::<_, Option<String>>(message_at)? {
        Some(_) => Some(message_from(row, message_at)?),
        None => None,
    };
    let user = match row.get::<_, Option<String>>(user_at)? {
        Some(_) => Some(user(row, user_at)?),
        None => None,
    };
    Ok((row.get(0)?, row.get(1)?, message, user))
}

/// The event a stored record and the rows it names make.
pub(super) fn replayed(
    chat_id: &str,
    (event_seq, payload, message, user): (i64, String, Option<Message>, Option<User>),
) -> StoreResult<ChatEvent> {
    let kind = EventRecord::from_json(&payload)?.replay(message, user)?;
    Ok(ChatEvent { chat_id: ChatId::new(chat_id), event_seq: event_seq as u64, kind })
}

/// `cols` (a comma-separated column list) with each column qualified by `table`.
fn prefixed(table: &str, cols: &str) -> String {
    cols.split(',').map(|c| format!("{table}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}
