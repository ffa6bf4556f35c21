//! `MessageStore` on Postgres: an append locks the chat's row, then takes the next seq
//! and event_seq in the same transaction, so seqs stay gap-free and unique across
//! server processes, and a repeated client_id is seen by the second append.

use super::rows::{self, Db, MESSAGE_COLS, clamp, get, insert_event, load_message, lock_chat, record_event, seq};
use super::{PgStore, map_err};
use chatter_core::StoreError;
use chatter_core::model::{ChatEvent, ChatEventKind, Message};
use chatter_core::store::{Created, MessageStore, MessageWindow, NewMessage, StoreResult};
use chatter_core::value::MessageText;
use chatter_core::{ChatId, MessageId, Timestamp};

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
        let cid = new.chat_id.as_str();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        lock_chat(&tx, cid).await?.ok_or(StoreError::NotFound("chat"))?;
        if let Some(client_id) = &new.client_id {
            // Under the chat's lock: an earlier append with this client_id has committed.
            let existing = tx
                .opt(
                    &format!(
                        "SELECT {MESSAGE_COLS}, msg.event_seq FROM messages msg
                         WHERE msg.chat_id = $1 AND msg.sender_id = $2 AND msg.client_id = $3"
                    ),
                    &[&cid, &new.sender_id.as_str(), &client_id.as_str()],
                )
                .await?;
            if let Some(row) = existing {
                let message = rows::message(&row, 0)?;
                let event = ChatEvent {
                    chat_id: new.chat_id.clone(),
                    event_seq: seq(&row, 10)?,
                    kind: ChatEventKind::MessageCreated { message: message.clone() },
                };
                tx.commit().await.map_err(map_err)?;
                return Ok(Created::Existing((message, event)));
            }
        }
        // The message's seq and its event's event_seq, in one step.
        let counters = tx
            .one(
                "UPDATE chats SET last_seq = last_seq + 1, last_event_seq = last_event_seq + 1,
                                  last_activity_at = GREATEST(last_activity_at, $2)
                 WHERE id = $1 RETURNING last_seq, last_event_seq",
                &[&cid, &new.created_at.as_micros()],
            )
            .await?;
        let (msg_seq, event_seq) = (get::<i64>(&counters, 0)?, seq(&counters, 1)?);
        let row = tx
            .one(
                &format!(
                    "INSERT INTO messages AS msg (chat_id, seq, id, sender_id, text, client_id, reply_to, created_at,
                                                  event_seq)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     RETURNING {MESSAGE_COLS}"
                ),
                &[
                    &cid,
                    &msg_seq,
                    &new.id.as_str(),
                    &new.sender_id.as_str(),
                    &new.text.as_str(),
                    &new.client_id.as_ref().map(|c| c.as_str()),
                    &new.reply_to.as_ref().map(MessageId::as_str),
                    &new.created_at.as_micros(),
                    &clamp(event_seq),
                ],
            )
            .await?;
        let message = rows::message(&row, 0)?;
        let event =
            insert_event(&tx, &new.chat_id, event_seq, ChatEventKind::MessageCreated { message: message.clone() })
                .await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Created::New((message, event)))
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
        let found = client
            .rows(
                "SELECT event_seq, payload FROM chat_events WHERE chat_id = $1 AND event_seq > $2
                 ORDER BY event_seq LIMIT $3",
                &[&chat_id.as_str(), &clamp(after), &clamp(limit)],
            )
            .await?;
        found.iter().map(|r| rows::event(chat_id, seq(r, 0)?, &get::<String>(r, 1)?)).collect()
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
