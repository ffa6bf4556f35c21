//! `ChatStore` and `ReadMarkerStore` on Postgres. Changes that record a chat event lock
//! the chat's row first (see [`lock_chat`]).

use super::rows::{
    self, CHAT_COLS, Db, MEMBER_COLS, MESSAGE_COLS, USER_COLS, clamp, get, load_chat, load_member, lock_chat,
    record_event, require_chat, seq,
};
use super::{PgStore, map_err};
use chatter_core::StoreError;
use chatter_core::model::{
    Chat, ChatEvent, ChatEventKind, ChatKind, ChatSummary, LeaveReason, Member, MemberEntry, Role, User,
};
use chatter_core::paging::search_key;
use chatter_core::store::{
    ChatStore, ChatUpdate, Created, NewChat, ReadMarkerStore, Removal, StoreResult, direct_pair_key,
};
use chatter_core::{ChatId, Timestamp, UserId};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

/// Summaries of the memberships `page` selects (a query of `chat_id, user_id` over
/// `members m JOIN chats c`, ordered and limited): the chat, the membership, the last
/// message and the unread count, in one statement (one snapshot). Rows come in
/// `order`.
fn summary_sql(page: &str, order: &str) -> String {
    format!(
        "WITH page AS ({page})
         SELECT {CHAT_COLS}, {MEMBER_COLS}, {MESSAGE_COLS},
                (SELECT count(*) FROM messages x
                 WHERE x.chat_id = m.chat_id AND x.seq > m.read_seq AND x.sender_id <> m.user_id AND NOT x.deleted)
         FROM page p
         JOIN chats c ON c.id = p.chat_id
         JOIN members m ON m.chat_id = p.chat_id AND m.user_id = p.user_id
         LEFT JOIN LATERAL (SELECT * FROM messages x WHERE x.chat_id = c.id ORDER BY x.seq DESC LIMIT 1) msg ON TRUE
         ORDER BY {order}"
    )
}

/// A summary from a row of [`summary_sql`].
fn summary(row: &Row) -> StoreResult<ChatSummary> {
    let member = rows::member(row, 10)?;
    Ok(ChatSummary {
        chat: rows::chat(row)?,
        role: member.role,
        last_message: rows::message_opt(row, 15)?,
        unread_count: seq(row, 25)?,
        read_seq: member.read_seq,
    })
}

async fn oldest_member(tx: &Transaction<'_>, chat_id: &str, role: Option<&str>) -> StoreResult<Option<String>> {
    tx.opt(
        "SELECT user_id FROM members WHERE chat_id = $1 AND ($2::TEXT IS NULL OR role = $2)
         ORDER BY joined_at, user_id LIMIT 1",
        &[&chat_id, &role],
    )
    .await?
    .map(|r| get(&r, 0))
    .transpose()
}

#[async_trait::async_trait]
impl ChatStore for PgStore {
    async fn create_chat(&self, new: NewChat) -> StoreResult<Created<Chat>> {
        let direct_key = match (new.kind, new.members.as_slice()) {
            (ChatKind::Direct, [(a, _), (b, _)]) => Some(direct_pair_key(a, b)),
            (ChatKind::Direct, _) => return Err(StoreError::Other("a direct chat needs two members".into())),
            _ => None,
        };
        let by_key = format!("SELECT {CHAT_COLS} FROM chats c WHERE c.direct_key = $1");
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let existing = match &direct_key {
            Some(key) => tx.opt(&by_key, &[key]).await?,
            None => None,
        };
        if let Some(row) = existing {
            return Ok(Created::Existing(rows::chat(&row)?));
        }
        let title = new.title.as_ref().map(|t| t.as_str());
        // A direct chat of the pair created meanwhile by another transaction makes this
        // insert wait for it, then do nothing: that chat is returned.
        let inserted = tx
            .opt(
                &format!(
                    "INSERT INTO chats AS c (id, kind, title, title_key, visibility, owner_id, direct_key, member_count,
                                             created_at, last_activity_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                     ON CONFLICT (direct_key) DO NOTHING
                     RETURNING {CHAT_COLS}"
                ),
                &[
                    &new.id.as_str(),
                    &new.kind.as_str(),
                    &title,
                    &title.map(search_key),
                    &new.visibility.as_str(),
                    &new.owner_id.as_ref().map(UserId::as_str),
                    &direct_key,
                    &clamp(new.members.len()),
                    &new.created_at.as_micros(),
                ],
            )
            .await?;
        let Some(row) = inserted else {
            let key = direct_key.ok_or(StoreError::Other("a group chat conflicted on its direct key".into()))?;
            let existing = tx.opt(&by_key, &[&key]).await?.ok_or(StoreError::Conflict("the direct chat vanished"))?;
            return Ok(Created::Existing(rows::chat(&existing)?));
        };
        let chat = rows::chat(&row)?;
        let (user_ids, roles): (Vec<&str>, Vec<&str>) =
            new.members.iter().map(|(u, r)| (u.as_str(), r.as_str())).unzip();
        tx.exec(
            "INSERT INTO members (chat_id, user_id, role, joined_at)
             SELECT $1, t.user_id, t.role, $4 FROM unnest($2::TEXT[], $3::TEXT[]) AS t (user_id, role)",
            &[&new.id.as_str(), &user_ids, &roles, &new.created_at.as_micros()],
        )
        .await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Created::New(chat))
    }

    async fn chat(&self, id: &ChatId) -> StoreResult<Option<Chat>> {
        let client = self.client().await?;
        load_chat(&client, id.as_str()).await
    }

    async fn member(&self, chat_id: &ChatId, user_id: &UserId) -> StoreResult<Option<Member>> {
        let client = self.client().await?;
        load_member(&client, chat_id.as_str(), user_id.as_str()).await
    }

    async fn members(
        &self,
        chat_id: &ChatId,
        after: Option<(Timestamp, UserId)>,
        limit: usize,
    ) -> StoreResult<Vec<MemberEntry>> {
        let (after_t, after_id) = after.map(|(t, id)| (t.as_micros(), id.to_string())).unzip();
        let client = self.client().await?;
        let found = client
            .rows(
                &format!(
                    "SELECT {MEMBER_COLS}, {USER_COLS} FROM members m JOIN users u ON u.id = m.user_id
                     WHERE m.chat_id = $1 AND ($2::BIGINT IS NULL OR (m.joined_at, m.user_id) > ($2, $3::TEXT))
                     ORDER BY m.joined_at, m.user_id LIMIT $4"
                ),
                &[&chat_id.as_str(), &after_t, &after_id, &clamp(limit)],
            )
            .await?;
        found.iter().map(|r| Ok(MemberEntry { member: rows::member(r, 0)?, user: rows::user(r, 5)? })).collect()
    }

    async fn chat_heads(&self, user_id: &UserId) -> StoreResult<Vec<(ChatId, u64)>> {
        let client = self.client().await?;
        let found = client
            .rows(
                "SELECT c.id, c.last_event_seq FROM members m JOIN chats c ON c.id = m.chat_id WHERE m.user_id = $1",
                &[&user_id.as_str()],
            )
            .await?;
        found.iter().map(|r| Ok((ChatId::new(get::<String>(r, 0)?), seq(r, 1)?))).collect()
    }

    async fn presence_audience(&self, user_id: &UserId, max_group: u64) -> StoreResult<Vec<UserId>> {
        let client = self.client().await?;
        let found = client
            .rows(
                "SELECT DISTINCT o.user_id FROM members m
                 JOIN chats c ON c.id = m.chat_id
                 JOIN members o ON o.chat_id = m.chat_id AND o.user_id <> m.user_id
                 WHERE m.user_id = $1 AND (c.kind = 'direct' OR c.member_count <= $2)
                 ORDER BY o.user_id",
                &[&user_id.as_str(), &clamp(max_group)],
            )
            .await?;
        found.iter().map(|r| Ok(UserId::new(get::<String>(r, 0)?))).collect()
    }

    async fn chats_of_user(
        &self,
        user_id: &UserId,
        after: Option<(Timestamp, ChatId)>,
        limit: usize,
    ) -> StoreResult<Vec<ChatSummary>> {
        let (after_t, after_id) = after.map(|(t, id)| (t.as_micros(), id.to_string())).unzip();
        let sql = summary_sql(
            "SELECT m.chat_id, m.user_id FROM members m JOIN chats c ON c.id = m.chat_id
             WHERE m.user_id = $1 AND ($2::BIGINT IS NULL OR (c.last_activity_at, c.id) < ($2, $3::TEXT))
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $4",
            "c.last_activity_at DESC, c.id DESC",
        );
        let client = self.client().await?;
        let found = client.rows(&sql, &[&user_id.as_str(), &after_t, &after_id, &clamp(limit)]).await?;
        found.iter().map(summary).collect()
    }

    async fn chat_summary(&self, chat_id: &ChatId, user_id: &UserId) -> StoreResult<Option<ChatSummary>> {
        let sql =
            summary_sql("SELECT m.chat_id, m.user_id FROM members m WHERE m.chat_id = $1 AND m.user_id = $2", "c.id");
        let client = self.client().await?;
        client.opt(&sql, &[&chat_id.as_str(), &user_id.as_str()]).await?.as_ref().map(summary).transpose()
    }

    async fn search_public_chats(
        &self,
        query: &str,
        after: Option<(String, ChatId)>,
        limit: usize,
    ) -> StoreResult<Vec<Chat>> {
        let (after_title, after_id) = after.map(|(t, id)| (t, id.to_string())).unzip();
        let client = self.client().await?;
        let found = client
            .rows(
                &format!(
                    "SELECT {CHAT_COLS} FROM chats c
                     WHERE c.kind = 'group' AND c.visibility = 'public' AND strpos(c.title_key, $1) > 0
                       AND ($2::TEXT IS NULL OR (c.title_key, c.id) > ($2, $3::TEXT))
                     ORDER BY c.title_key, c.id LIMIT $4"
                ),
                &[&query, &after_title, &after_id, &clamp(limit)],
            )
            .await?;
        found.iter().map(rows::chat).collect()
    }

    async fn update_chat(&self, id: &ChatId, update: ChatUpdate) -> StoreResult<(Chat, ChatEvent)> {
        let title = update.title.as_ref().map(|t| t.as_str());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        lock_chat(&tx, id.as_str()).await?.ok_or(StoreError::NotFound("chat"))?;
        let row = tx
            .one(
                &format!(
                    "UPDATE chats c SET title = COALESCE($2, c.title), title_key = COALESCE($3, c.title_key),
                                        visibility = COALESCE($4, c.visibility)
                     WHERE c.id = $1 RETURNING {CHAT_COLS}"
                ),
                &[&id.as_str(), &title, &title.map(search_key), &update.visibility.map(|v| v.as_str())],
            )
            .await?;
        let mut chat = rows::chat(&row)?;
        let event = record_event(&tx, id, ChatEventKind::ChatUpdated { chat: chat.clone() }).await?;
        tx.commit().await.map_err(map_err)?;
        chat.last_event_seq = event.event_seq;
        Ok((chat, event))
    }

    async fn add_member(
        &self,
        chat_id: &ChatId,
        user: &User,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<Option<(Member, ChatEvent)>> {
        let cid = chat_id.as_str();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        lock_chat(&tx, cid).await?.ok_or(StoreError::NotFound("chat"))?;
        if load_member(&tx, cid, user.id.as_str()).await?.is_some() {
            tx.commit().await.map_err(map_err)?;
            return Ok(None);
        }
        let row = tx
            .one(
                &format!(
                    "INSERT INTO members AS m (chat_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)
                     RETURNING {MEMBER_COLS}"
                ),
                &[&cid, &user.id.as_str(), &role.as_str(), &at.as_micros()],
            )
            .await?;
        let member = rows::member(&row, 0)?;
        tx.exec("UPDATE chats SET member_count = member_count + 1 WHERE id = $1", &[&cid]).await?;
        let event = record_event(&tx, chat_id, ChatEventKind::MemberJoined { user: user.clone(), role }).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some((member, event)))
    }

    async fn set_role(&self, chat_id: &ChatId, user_id: &UserId, role: Role) -> StoreResult<(Member, ChatEvent)> {
        let (cid, uid) = (chat_id.as_str(), user_id.as_str());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        lock_chat(&tx, cid).await?;
        let current = load_member(&tx, cid, uid).await?.ok_or(StoreError::NotFound("member"))?;
        if current.role == Role::Owner {
            return Err(StoreError::Conflict("the owner's role changes only by handover"));
        }
        let row = tx
            .one(
                &format!(
                    "UPDATE members m SET role = $3 WHERE m.chat_id = $1 AND m.user_id = $2 RETURNING {MEMBER_COLS}"
                ),
                &[&cid, &uid, &role.as_str()],
            )
            .await?;
        let member = rows::member(&row, 0)?;
        let event = record_event(&tx, chat_id, ChatEventKind::MemberRole { user_id: user_id.clone(), role }).await?;
        tx.commit().await.map_err(map_err)?;
        Ok((member, event))
    }

    async fn remove_member(&self, chat_id: &ChatId, user_id: &UserId, reason: LeaveReason) -> StoreResult<Removal> {
        let (cid, uid) = (chat_id.as_str(), user_id.as_str());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        lock_chat(&tx, cid).await?;
        let gone = load_member(&tx, cid, uid).await?.ok_or(StoreError::NotFound("member"))?;
        tx.exec("DELETE FROM members WHERE chat_id = $1 AND user_id = $2", &[&cid, &uid]).await?;
        let left = tx
            .one("UPDATE chats SET member_count = member_count - 1 WHERE id = $1 RETURNING member_count", &[&cid])
            .await?;
        if get::<i64>(&left, 0)? == 0 {
            // Messages, events and memberships go with the chat (ON DELETE CASCADE).
            tx.exec("DELETE FROM chats WHERE id = $1", &[&cid]).await?;
            tx.commit().await.map_err(map_err)?;
            return Ok(Removal { events: Vec::new(), new_owner: None, chat_deleted: true });
        }
        let mut events =
            vec![record_event(&tx, chat_id, ChatEventKind::MemberLeft { user_id: user_id.clone(), reason }).await?];
        let mut new_owner = None;
        if gone.role == Role::Owner {
            let heir = match oldest_member(&tx, cid, Some(Role::Admin.as_str())).await? {
                Some(h) => h,
                None => oldest_member(&tx, cid, None).await?.ok_or(StoreError::Other("no heir".into()))?,
            };
            tx.exec("UPDATE members SET role = 'owner' WHERE chat_id = $1 AND user_id = $2", &[&cid, &heir]).await?;
            tx.exec("UPDATE chats SET owner_id = $2 WHERE id = $1", &[&cid, &heir]).await?;
            let heir = UserId::new(heir);
            events.push(
                record_event(&tx, chat_id, ChatEventKind::MemberRole { user_id: heir.clone(), role: Role::Owner })
                    .await?,
            );
            let chat = require_chat(&tx, cid).await?;
            events.push(record_event(&tx, chat_id, ChatEventKind::ChatUpdated { chat }).await?);
            new_owner = Some(heir);
        }
        tx.commit().await.map_err(map_err)?;
        Ok(Removal { events, new_owner, chat_deleted: false })
    }
}

#[async_trait::async_trait]
impl ReadMarkerStore for PgStore {
    async fn mark_read(&self, chat_id: &ChatId, user_id: &UserId, seq: u64) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client
            .opt(
                "UPDATE members SET read_seq = GREATEST(read_seq, $3)
                 WHERE chat_id = $1 AND user_id = $2 RETURNING read_seq",
                &[&chat_id.as_str(), &user_id.as_str(), &clamp(seq)],
            )
            .await?
            .ok_or(StoreError::NotFound("member"))?;
        rows::seq(&row, 0)
    }
}
