//! Mapping between rows and model types, the statements every aggregate shares, and
//! [`Db`]: one way to run a statement on a pooled connection or inside a transaction,
//! through the connection's prepared-statement cache.

use super::map_err;
use chatter_core::StoreError;
use chatter_core::model::{Chat, ChatEvent, ChatEventKind, ChatKind, Member, Message, Role, Session, User, Visibility};
use chatter_core::store::{EventRecord, StoreResult};
use chatter_core::{ChatId, MessageId, SessionId, Timestamp, UserId};
use deadpool_postgres::{Object, Transaction};
use std::sync::LazyLock;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Row, Statement};

pub(super) const USER_COLS: &str = "u.id, u.username, u.display_name, u.bio, u.avatar_url, u.created_at, u.deleted";
pub(super) const SESSION_COLS: &str = "id, user_id, token_hash, device_name, created_at, last_seen_at";
/// `SESSION_COLS` of the table aliased `s`, for joins.
pub(super) const SESSION_COLS_S: &str = "s.id, s.user_id, s.token_hash, s.device_name, s.created_at, s.last_seen_at";
pub(super) const CHAT_COLS: &str = "c.id, c.kind, c.title, c.visibility, c.owner_id, c.member_count, c.last_seq, c.last_event_seq, c.created_at, c.last_activity_at";
pub(super) const MEMBER_COLS: &str = "m.chat_id, m.user_id, m.role, m.joined_at, m.read_seq";
pub(super) const MESSAGE_COLS: &str = "msg.id, msg.chat_id, msg.seq, msg.sender_id, msg.text, msg.client_id, msg.reply_to, msg.created_at, msg.edited_at, msg.deleted";

/// Statement parameters.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Runs statements, prepared once per connection, on a client or in a transaction.
#[async_trait::async_trait]
pub(super) trait Db: Sync {
    /// The prepared statement for `sql`, from the connection's cache.
    async fn prepared(&self, sql: &str) -> StoreResult<Statement>;
    /// All rows.
    async fn rows(&self, sql: &str, params: Params<'_>) -> StoreResult<Vec<Row>>;
    /// At most one row (more is an error).
    async fn opt(&self, sql: &str, params: Params<'_>) -> StoreResult<Option<Row>>;
    /// Exactly one row.
    async fn one(&self, sql: &str, params: Params<'_>) -> StoreResult<Row>;
    /// The number of rows changed.
    async fn exec(&self, sql: &str, params: Params<'_>) -> StoreResult<u64>;
}

macro_rules! impl_db {
    ($($t:ty),*) => {$(
        #[async_trait::async_trait]
        impl Db for $t {
            async fn prepared(&self, sql: &str) -> StoreResult<Statement> {
                self.prepare_cached(sql).await.map_err(map_err)
            }

            async fn rows(&self, sql: &str, params: Params<'_>) -> StoreResult<Vec<Row>> {
                let statement = self.prepared(sql).await?;
                self.query(&statement, params).await.map_err(map_err)
            }

            async fn opt(&self, sql: &str, params: Params<'_>) -> StoreResult<Option<Row>> {
                let statement = self.prepared(sql).await?;
                self.query_opt(&statement, params).await.map_err(map_err)
            }

            async fn one(&self, sql: &str, params: Params<'_>) -> StoreResult<Row> {
                let statement = self.prepared(sql).await?;
                self.query_one(&statement, params).await.map_err(map_err)
            }

            async fn exec(&self, sql: &str, params: Params<'_>) -> StoreResult<u64> {
                let statement = self.prepared(sql).await?;
                self.execute(&statement, params).await.map_err(map_err)
            }
        }
    )*};
}

impl_db!(Object, Transaction<'_>);

/// A value as a Postgres BIGINT: values beyond its range behave like the largest one.
pub(super) fn clamp(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

fn bad(what: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("bad {what}: {value}"))
}

/// Column `i` of `row`; a type mismatch is a failure, not an outage.
pub(super) fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> StoreResult<T> {
    row.try_get(i).map_err(|e| bad(&format!("column {i}"), e))
}

/// A seq, count or marker column.
pub(super) fn seq(row: &Row, i: usize) -> StoreResult<u64> {
    let n: i64 = get(row, i)?;
    u64::try_from(n).map_err(|_| bad("seq", n))
}

fn time(row: &Row, i: usize) -> StoreResult<Timestamp> {
    Ok(Timestamp::from_micros(get(row, i)?))
}

/// A user from `USER_COLS` starting at column `o`.
pub(super) fn user(row: &Row, o: usize) -> StoreResult<User> {
    Ok(User {
        id: UserId::new(get::<String>(row, o)?),
        username: get(row, o + 1)?,
        display_name: get(row, o + 2)?,
        bio: get(row, o + 3)?,
        avatar_url: get(row, o + 4)?,
        created_at: time(row, o + 5)?,
        deleted: get(row, o + 6)?,
    })
}

/// A user from `USER_COLS` starting at column `o` of an outer join: `None` when the
/// join found none.
pub(super) fn user_opt(row: &Row, o: usize) -> StoreResult<Option<User>> {
    match get::<Option<String>>(row, o)? {
        Some(_) => user(row, o).map(Some),
        None => Ok(None),
    }
}

/// A session from `SESSION_COLS`.
pub(super) fn session(row: &Row) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId::new(get::<String>(row, 0)?),
        user_id: UserId::new(get::<String>(row, 1)?),
        token_hash: get(row, 2)?,
        device_name: get(row, 3)?,
        created_at: time(row, 4)?,
        last_seen_at: time(row, 5)?,
    })
}

/// A chat from `CHAT_COLS` starting at column 0.
pub(super) fn chat(row: &Row) -> StoreResult<Chat> {
    let kind: String = get(row, 1)?;
    let visibility: String = get(row, 3)?;
    Ok(Chat {
        id: ChatId::new(get::<String>(row, 0)?),
        kind: ChatKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        title: get(row, 2)?,
        visibility: Visibility::parse(&visibility).ok_or_else(|| bad("visibility", &visibility))?,
        owner_id: get::<Option<String>>(row, 4)?.map(UserId::new),
        member_count: seq(row, 5)?,
        last_seq: seq(row, 6)?,
        last_event_seq: seq(row, 7)?,
        created_at: time(row, 8)?,
        last_activity_at: time(row, 9)?,
    })
}

/// A member from `MEMBER_COLS` starting at column `o`.
pub(super) fn member(row: &Row, o: usize) -> StoreResult<Member> {
    let role: String = get(row, o + 2)?;
    Ok(Member {
        chat_id: ChatId::new(get::<String>(row, o)?),
        user_id: UserId::new(get::<String>(row, o + 1)?),
        role: Role::parse(&role).ok_or_else(|| bad("role", &role))?,
        joined_at: time(row, o + 3)?,
        read_seq: seq(row, o + 4)?,
    })
}

/// A member from `MEMBER_COLS` starting at column `o` of an outer join: `None` when
/// the join found none.
pub(super) fn member_opt(row: &Row, o: usize) -> StoreResult<Option<Member>> {
    match get::<Option<String>>(row, o)? {
        Some(_) => member(row, o).map(Some),
        None => Ok(None),
    }
}

/// A message from `MESSAGE_COLS` starting at column `o`.
pub(super) fn message(row: &Row, o: usize) -> StoreResult<Message> {
    Ok(Message {
        id: MessageId::new(get::<String>(row, o)?),
        chat_id: ChatId::new(get::<String>(row, o + 1)?),
        seq: seq(row, o + 2)?,
        sender_id: UserId::new(get::<String>(row, o + 3)?),
        text: get(row, o + 4)?,
        client_id: get(row, o + 5)?,
        reply_to: get::<Option<String>>(row, o + 6)?.map(MessageId::new),
        created_at: time(row, o + 7)?,
        edited_at: get::<Option<i64>>(row, o + 8)?.map(Timestamp::from_micros),
        deleted: get(row, o + 9)?,
    })
}

/// A message from `MESSAGE_COLS` starting at column `o` of an outer join: `None` when
/// the join found none.
pub(super) fn message_opt(row: &Row, o: usize) -> StoreResult<Option<Message>> {
    match get::<Option<String>>(row, o)? {
        Some(_) => message(row, o).map(Some),
        None => Ok(None),
    }
}

pub(super) async fn load_chat(db: &impl Db, id: &str) -> StoreResult<Option<Chat>> {
    db.opt(&format!("SELECT {CHAT_COLS} FROM chats c WHERE c.id = $1"), &[&id]).await?.as_ref().map(chat).transpose()
}

pub(super) async fn require_chat(db: &impl Db, id: &str) -> StoreResult<Chat> {
    load_chat(db, id).await?.ok_or(StoreError::NotFound("chat"))
}

/// Locks the chat's row until the transaction ends, and returns the chat (`None` if
/// absent). Every change that records a chat event or takes a seq locks first, so the
/// changes of one chat are serialised across all server processes: seqs stay gap-free
/// and unique, and what a change checked before acting still holds when it acts.
pub(super) async fn lock_chat(tx: &Transaction<'_>, id: &str) -> StoreResult<Option<Chat>> {
    tx.opt(&format!("SELECT {CHAT_COLS} FROM chats c WHERE c.id = $1 FOR UPDATE"), &[&id])
        .await?
        .as_ref()
        .map(chat)
        .transpose()
}

pub(super) async fn load_member(db: &impl Db, chat_id: &str, user_id: &str) -> StoreResult<Option<Member>> {
    db.opt(
        &format!("SELECT {MEMBER_COLS} FROM members m WHERE m.chat_id = $1 AND m.user_id = $2"),
        &[&chat_id, &user_id],
    )
    .await?
    .map(|r| member(&r, 0))
    .transpose()
}

pub(super) async fn load_message(db: &impl Db, chat_id: &str, id: &str) -> StoreResult<Option<Message>> {
    db.opt(&format!("SELECT {MESSAGE_COLS} FROM messages msg WHERE msg.chat_id = $1 AND msg.id = $2"), &[&chat_id, &id])
        .await?
        .map(|r| message(&r, 0))
        .transpose()
}

/// Records the chat's next event inside the caller's transaction (which locked the
/// chat's row first).
pub(super) async fn record_event(
    tx: &Transaction<'_>,
    chat_id: &ChatId,
    kind: ChatEventKind,
) -> StoreResult<ChatEvent> {
    let row = tx
        .opt(
            "UPDATE chats SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq",
            &[&chat_id.as_str()],
        )
        .await?
        .ok_or(StoreError::NotFound("chat"))?;
    insert_event(tx, chat_id, seq(&row, 0)?, kind).await
}

/// Stores the event numbered `event_seq`, already taken from the chat's
/// `last_event_seq` in the caller's transaction, as an [`EventRecord`] naming its
/// message or user (the payload copies neither).
pub(super) async fn insert_event(
    tx: &Transaction<'_>,
    chat_id: &ChatId,
    event_seq: u64,
    kind: ChatEventKind,
) -> StoreResult<ChatEvent> {
    let mut kind = kind;
    if let ChatEventKind::ChatUpdated { chat } = &mut kind {
        chat.last_event_seq = event_seq;
    }
    let record = EventRecord::of(&kind);
    tx.exec(
        "INSERT INTO chat_events (chat_id, event_seq, payload, message_id, user_id) VALUES ($1, $2, $3, $4, $5)",
        &[
            &chat_id.as_str(),
            &clamp(event_seq),
            &record.to_json()?,
            &record.message_ref().map(MessageId::as_str),
            &record.user_ref().map(UserId::as_str),
        ],
    )
    .await?;
    Ok(ChatEvent { chat_id: chat_id.clone(), event_seq, kind })
}

/// Reads a chat's events after an event_seq ($1 chat, $2 after, $3 limit), each with
/// the current row of the message and of the user its record names.
pub(super) static EVENTS_QUERY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT e.event_seq, e.payload, {MESSAGE_COLS}, {USER_COLS} FROM chat_events e
         LEFT JOIN messages msg ON msg.chat_id = e.chat_id AND msg.id = e.message_id
         LEFT JOIN users u ON u.id = e.user_id
         WHERE e.chat_id = $1 AND e.event_seq > $2 ORDER BY e.event_seq LIMIT $3"
    )
});

/// The event of a row of [`EVENTS_QUERY`]: its record completed from the rows it joined.
pub(super) fn replayed(chat_id: &ChatId, row: &Row) -> StoreResult<ChatEvent> {
    let message_at = 2;
    let user_at = message_at + MESSAGE_COLS.split(',').count();
    let record = EventRecord::from_json(&get::<String>(row, 1)?)?;
    let kind = record.replay(message_opt(row, message_at)?, user_opt(row, user_at)?)?;
    Ok(ChatEvent { chat_id: chat_id.clone(), event_seq: seq(row, 0)?, kind })
}
