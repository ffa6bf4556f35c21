//! `MessageStore` on SQLite: appends take the next seq and event_seq in one
//! transaction on the single writer connection.

use super::Cached;
use super::rows::{self, MESSAGE_COLS, load_message, record_event};
use super::{SqliteStore, map_err};
use chatter_core::StoreError;
use chatter_core::model::{ChatEvent, ChatEventKind, Message};
use chatter_core::store::{Created, MessageStore, MessageWindow, NewMessage, StoreResult};
use chatter_core::value::MessageText;
use chatter_core::{ChatId, MessageId, Timestamp};
use rusqlite::{OptionalExtension, params};

#[async_trait::async_trait]
impl MessageStore for SqliteStore {
    async fn append_message(&self, new: NewMessage) -> StoreResult<Created<(Message, ChatEvent)>> {
        self.write_now(move |tx| {
            let cid = new.chat_id.as_str();
            if let Some(client_id) = &new.client_id {
                let existing = tx
                    .cached_row(
                        &format!(
                            "SELECT {MESSAGE_COLS}, event_seq FROM messages
                             WHERE chat_id = ?1 AND sender_id = ?2 AND client_id = ?3"
                        ),
                        params![cid, new.sender_id.as_str(), client_id.as_str()],
                        |r| Ok((rows::message(r)?, r.get::<_, i64>(10)?)),
                    )
                    .optional()
                    .map_err(map_err)?;
                if let Some((message, event_seq)) = existing {
                    let event = ChatEvent {
                        chat_id: new.chat_id.clone(),
                        event_seq: event_seq as u64,
                        kind: ChatEventKind::MessageCreated { message: message.clone() },
                    };
                    return Ok(Created::Existing((message, event)));
                }
            }
            let seq: i64 = tx
                .cached_row(
                    "UPDATE chats SET last_seq = last_seq + 1, last_activity_at = max(last_activity_at, ?2)
                     WHERE id = ?1 RETURNING last_seq",
                    params![cid, new.created_at.as_micros()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_err)?
                .ok_or(StoreError::NotFound("chat"))?;
            tx.cached_exec(
                "INSERT INTO messages (chat_id, seq, id, sender_id, text, client_id, reply_to, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    cid,
                    seq,
                    new.id.as_str(),
                    new.sender_id.as_str(),
                    new.text.as_str(),
                    new.client_id.as_ref().map(|c| c.as_str()),
                    new.reply_to.as_ref().map(MessageId::as_str),
                    new.created_at.as_micros()
                ],
            )
            .map_err(map_err)?;
            let message = load_message(tx, cid, new.id.as_str())?.ok_or(StoreError::NotFound("message"))?;
            let event = record_event(tx, &new.chat_id, ChatEventKind::MessageCreated { message: message.clone() })?;
            tx.cached_exec(
                "UPDATE messages SET event_seq = ?3 WHERE chat_id = ?1 AND seq = ?2",
                params![cid, seq, event.event_seq as i64],
            )
            .map_err(map_err)?;
            Ok(Created::New((message, event)))
        })
        .await
    }

    async fn message(&self, chat_id: &ChatId, id: &MessageId) -> StoreResult<Option<Message>> {
        let (chat_id, id) = (chat_id.to_string(), id.to_string());
        self.read(move |c| load_message(c, &chat_id, &id)).await
    }

    async fn messages(&self, chat_id: &ChatId, window: MessageWindow, limit: usize) -> StoreResult<Vec<Message>> {
        let chat_id = chat_id.to_string();
        self.read(move |c| {
            let (filter, order, bound) = match window {
                MessageWindow::Latest => ("", "DESC", 0),
                MessageWindow::Before(s) => ("AND seq < ?3", "DESC", clamp(s)),
                MessageWindow::After(s) => ("AND seq > ?3", "ASC", clamp(s)),
            };
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ?1 {filter} ORDER BY seq {order} LIMIT ?2"
                ))
                .map_err(map_err)?;
            let rows = if filter.is_empty() {
                stmt.query_map(params![chat_id, limit as i64], rows::message)
            } else {
                stmt.query_map(params![chat_id, limit as i64, bound], rows::message)
            }
            .map_err(map_err)?;
            let mut found = rows.collect::<Result<Vec<_>, _>>().map_err(map_err)?;
            if order == "DESC" {
                found.reverse();
            }
            Ok(found)
        })
        .await
    }

    async fn edit_message(
        &self,
        chat_id: &ChatId,
        id: &MessageId,
        text: &MessageText,
        at: Timestamp,
    ) -> StoreResult<(Message, ChatEvent)> {
        let (chat_id, id, text) = (chat_id.clone(), id.to_string(), text.as_str().to_owned());
        self.write(move |tx| {
            let current = load_message(tx, chat_id.as_str(), &id)?.ok_or(StoreError::NotFound("message"))?;
            if current.deleted {
                return Err(StoreError::Conflict("the message was deleted"));
            }
            tx.cached_exec(
                "UPDATE messages SET text = ?3, edited_at = ?4 WHERE chat_id = ?1 AND id = ?2",
                params![chat_id.as_str(), id, text, at.as_micros()],
            )
            .map_err(map_err)?;
            let message = load_message(tx, chat_id.as_str(), &id)?.ok_or(StoreError::NotFound("message"))?;
            let event = record_event(tx, &chat_id, ChatEventKind::MessageEdited { message: message.clone() })?;
            Ok((message, event))
        })
        .await
    }

    async fn delete_message(&self, chat_id: &ChatId, id: &MessageId) -> StoreResult<Option<(Message, ChatEvent)>> {
        let (chat_id, id) = (chat_id.clone(), id.clone());
        self.write(move |tx| {
            let before = load_message(tx, chat_id.as_str(), id.as_str())?.ok_or(StoreError::NotFound("message"))?;
            if before.deleted {
                return Ok(None);
            }
            tx.cached_exec(
                "UPDATE messages SET text = '', deleted = 1 WHERE chat_id = ?1 AND id = ?2",
                params![chat_id.as_str(), id.as_str()],
            )
            .map_err(map_err)?;
            let message = load_message(tx, chat_id.as_str(), id.as_str())?.ok_or(StoreError::NotFound("message"))?;
            let event = record_event(tx, &chat_id, ChatEventKind::MessageDeleted { message_id: id, seq: message.seq })?;
            Ok(Some((message, event)))
        })
        .await
    }

    async fn chat_events(&self, chat_id: &ChatId, after: u64, limit: usize) -> StoreResult<Vec<ChatEvent>> {
        let chat_id = chat_id.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&rows::EVENTS_QUERY).map_err(map_err)?;
            let found = stmt
                .query_map(params![chat_id, clamp(after), limit as i64], rows::event)
                .map_err(map_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(map_err)?;
            found.into_iter().map(|row| rows::replayed(&chat_id, row)).collect()
        })
        .await
    }
}

/// Seqs beyond SQLite's integer range behave like the largest one.
fn clamp(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}
