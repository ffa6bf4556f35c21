//! `MessageStore` on Postgres. An append is one statement: it bumps the chat's counters
//! (which locks the chat's row until it commits), stores the message with the new seq
//! and its event with the new event_seq. Seqs stay gap-free and unique across server
//! processes; a repeated client_id breaks the idempotency index, which rolls the whole
//! statement back (counters included), and the earlier message is answered.

use super::rows::{self, Db, MESSAGE_COLS, clamp, load_message, lock_chat, record_event, seq};
use super::{PgStore, is_unique_violation, map_err};
use chatter_core::StoreError;
use chatter_core::model::{ChatEvent, ChatEventKind, Message};
use chatter_core::store::{Created, EventRecord, MessageStore, MessageWindow, NewMessage, StoreResult};
use chatter_core::value::MessageText;
use chatter_core::{ChatId, MessageId, Timestamp};

/// One append, $1 chat, $2 id, $3 sender, $4 text, $5 client_id, $6 reply_to,
/// $7 created_at, $8 the event's record (`EventRecord`: the message by id). One round
/// trip and no explicit transaction: every send pays for few statements.
const APPEND: &str = "
    WITH counters AS (
        UPDATE chats SET last_seq = last_seq + 1, last_event_seq = last_event_seq + 1,
                         last_activity_at = GREATEST(last_activity_at, $7)
        WHERE id = $1
        RETURNING last_seq, last_event_seq
    ), stored AS (
        INSERT INTO messages (chat_id, seq, id, sender_id, text, client_id, reply_to, created_at, event_seq)
        SELECT $1, last_seq, $2, $3, $4, $5, $6, $7, last_event_seq FROM counters
        RETURNING seq, event_seq
    ), event AS (
        INSERT INTO chat_events (chat_id, event_seq, payload, message_id)
        SELECT $1, event_seq, $8, $2 FROM stored
    )
    SELECT seq, event_seq FROM stored";

/// The statement of a history page: keyset pages on the primary key (chat_id, seq),
/// never OFFSET. Answers the SQL ($1 chat, $2 limit, $3 the bound if any), the bound,
/// and whether rows come newest first.
pub(super) fn history_query(window: MessageWindow) -> (String, Option<i64>, bool) {
    let (filter, order, bound) = match window {
        MessageWindow::Latest => ("", "DESC", None),
        MessageWindow::Before(s) => ("AND msg.seq < $3", "DESC", Some(clamp(s))),
        MessageWindow::After(s) => ("AND msg.seq > $3", "ASC", Some(clamp(s))),
    };
    let sql = format!(
        "SELECT {MESSAGE_COLS} FROM messages msg WHERE msg.chat_id = $1 {filter} ORDER BY msg.seq {order} LIMIT $2"
    );
    (sql, bound, order == "DESC")
}

#[async_trait::async_trait]
impl MessageStore for PgStore {
    async fn append_message(&self, new: NewMessage) -> StoreResult<Created<(Message, ChatEvent)>> {
        let client = self.client().await?;
        // The message as it is stored, but for its seq, which the statement assigns.
        let mut message = Message {
            id: new.id.clone(),
            chat_id: new.chat_id.clone(),
            seq: 0,
            sender_id: new.sender_id.clone(),
            text: new.text.as_str().to_owned(),
            client_id: new.client_id.as_ref().map(|c| c.as_str().to_owned()),
            reply_to: new.reply_to.clone(),
            created_at: new.created_at,
            edited_at: None,
            deleted: false,
        };
        let payload = EventRecord::MessageCreated { message_id: new.id.clone() }.to_json()?;
        let statement = client.prepared(APPEND).await?;
        let appended = client
            .query_opt(
                &statement,
                &[
                    &new.chat_id.as_str(),
                    &new.id.as_str(),
                    &new.sender_id.as_str(),
                    &new.text.as_str(),
                    &message.client_id,
                    &new.reply_to.as_ref().map(MessageId::as_str),
                    &new.created_at.as_micros(),
                    &payload,
                ],
            )
            .await;
        match appended {
            Ok(Some(row)) => {
                message.seq = seq(&row, 0)?;
                let event = ChatEvent {
                    chat_id: new.chat_id,
                    event_seq: seq(&row, 1)?,
                    kind: ChatEventKind::MessageCreated { message: message.clone() },
                };
                Ok(Created::New((message, event)))
            }
            Ok(None) => Err(StoreError::NotFound("chat")),
            // The whole statement rolled back (the counters too): an earlier append
            // with this client_id has committed. Answer it.
            Err(e) if is_unique_violation(&e) && message.client_id.is_some() => {
                let row = client
                    .opt(
                        &format!(
                            "SELECT {MESSAGE_COLS}, msg.event_seq FROM messages msg
                             WHERE msg.chat_id = $1 AND msg.sender_id = $2 AND msg.client_id = $3"
                        ),
                        &[&new.chat_id.as_str(), &new.sender_id.as_str(), &message.client_id],
                    )
                    .await?
                    .ok_or_else(|| StoreError::Other("an idempotency conflict without its message".into()))?;
                let message = rows::message(&row, 0)?;
                let event = ChatEvent {
                    chat_id: new.chat_id,
                    event_seq: seq(&row, 10)?,
                    kind: ChatEventKind::MessageCreated { message: message.clone() },
                };
                Ok(Created::Existing((message, event)))
            }
            Err(e) => Err(map_err(e)),
        }
    }

    async fn message(&self, chat_id: &ChatId, id: &MessageId) -> StoreResult<Option<Message>> {
        let client = self.client().await?;
        load_message(&client, chat_id.as_str(), id.as_str()).await
    }

    async fn messages(&self, chat_id: &ChatId, window: MessageWindow, limit: usize) -> StoreResult<Vec<Message>> {
        let (sql, bound, descending) = history_query(window);
        let client = self.client().await?;
        let (cid, limit) = (chat_id.as_str(), clamp(limit));
        let found = match &bound {
            None => client.rows(&sql, &[&cid, &limit]).await?,
            Some(bound) => client.rows(&sql, &[&cid, &limit, bound]).await?,
        };
        let mut found = found.iter().map(|r| rows::message(r, 0)).collect::<StoreResult<Vec<_>>>()?;
        if descending {
            found.reverse();
        }
        Ok(found)
    }

    async fn edit_message(
        &self,
        chat_id: &ChatId,
        id: &MessageId,
        text: &MessageText,
        at: Timestamp,
    ) -> StoreResult<(Message, ChatEvent)> {
        let (cid, mid) = (chat_id.as_str(), id.as_str());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        // Under the chat's lock, a deletion cannot slip between the check and the edit.
        lock_chat(&tx, cid).await?;
        let current = load_message(&tx, cid, mid).await?.ok_or(StoreError::NotFound("message"))?;
        if current.deleted {
            return Err(StoreError::Conflict("the message was deleted"));
        }
        let row = tx
            .one(
                &format!(
                    "UPDATE messages msg SET text = $3, edited_at = $4 WHERE msg.chat_id = $1 AND msg.id = $2
                     RETURNING {MESSAGE_COLS}"
                ),
                &[&cid, &mid, &text.as_str(), &at.as_micros()],
            )
            .await?;
        let message = rows::message(&row, 0)?;
        let event = record_event(&tx, chat_id, ChatEventKind::MessageEdited { message: message.clone() }).await?;
        tx.commit().await.map_err(map_err)?;
        Ok((message, event))
    }

    async fn delete_message(&self, chat_id: &ChatId, id: &MessageId) -> StoreResult<Option<(Message, ChatEvent)>> {
        let (cid, mid) = (chat_id.as_str(), id.as_str());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        lock_chat(&tx, cid).await?;
        let before = load_message(&tx, cid, mid).await?.ok_or(StoreError::NotFound("message"))?;
        if before.deleted {
            tx.commit().await.map_err(map_err)?;
            return Ok(None);
        }
        let row = tx
            .one(
                &format!(
                    "UPDATE messages msg SET text = '', deleted = TRUE WHERE msg.chat_id = $1 AND msg.id = $2
                     RETURNING {MESSAGE_COLS}"
                ),
                &[&cid, &mid],
            )
            .await?;
        let message = rows::message(&row, 0)?;
        let kind = ChatEventKind::MessageDeleted { message_id: id.clone(), seq: message.seq };
        let event = record_event(&tx, chat_id, kind).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some((message, event)))
    }

    async fn chat_events(&self, chat_id: &ChatId, after: u64, limit: usize) -> StoreResult<Vec<ChatEvent>> {
        let client = self.client().await?;
        let found = client.rows(&rows::EVENTS_QUERY, &[&chat_id.as_str(), &clamp(after), &clamp(limit)]).await?;
        found.iter().map(|r| rows::replayed(chat_id, r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::history_query;
    use crate::store::postgres::testing;
    use chatter_core::store::MessageWindow;

    /// The history query reads a page through the primary key's index on a table of
    /// 100,000 messages (in 10 chats), for every kind of window.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn history_pages_use_the_index_on_100_000_messages() {
        let Some(store) = testing::fresh_store().await else { return };
        let client = store.client().await.expect("client");
        client
            .batch_execute(
                "SET statement_timeout = 0;
                 INSERT INTO users (id, username, display_name, display_key, created_at)
                     VALUES ('u', 'u', 'u', 'u', 0);
                 INSERT INTO chats (id, kind, title, title_key, visibility, member_count, last_seq, created_at, last_activity_at)
                     SELECT 'c' || c, 'group', 't', 't', 'private', 1, 10000, 0, 0 FROM generate_series(0, 9) c;
                 INSERT INTO messages (chat_id, seq, id, sender_id, text, created_at, event_seq)
                     SELECT 'c' || (n % 10), n / 10 + 1, 'm' || n, 'u', 'hello', n, n / 10 + 1
                     FROM generate_series(0, 99999) n;
                 ANALYZE;
                 RESET statement_timeout;",
            )
            .await
            .expect("fill");
        for window in [MessageWindow::Latest, MessageWindow::Before(5000), MessageWindow::After(5000)] {
            let (sql, bound, _) = history_query(window);
            let explain = format!("EXPLAIN {sql}");
            let (chat, limit) = ("c3", 50_i64);
            let rows = match bound {
                None => client.query(&explain, &[&chat, &limit]).await,
                Some(b) => client.query(&explain, &[&chat, &limit, &b]).await,
            }
            .expect("explain");
            let plan: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
            let plan = plan.join("\n");
            assert!(plan.contains("Index Scan") && plan.contains("messages_pkey"), "{window:?}:\n{plan}");
            assert!(!plan.contains("Seq Scan") && !plan.contains("Sort"), "{window:?}:\n{plan}");
        }
    }
}
