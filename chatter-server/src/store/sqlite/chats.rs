//! `ChatStore` and `ReadMarkerStore` on SQLite.

use super::Cached;
use super::rows::{
    self, CHAT_COLS, MEMBER_COLS, MESSAGE_COLS, USER_COLS, load_chat, load_member, record_event, require_chat,
};
use super::{SqliteStore, map_err};
use chatter_core::StoreError;
use chatter_core::model::{
    Chat, ChatEvent, ChatEventKind, ChatKind, ChatSummary, LeaveReason, Member, MemberEntry, Role, User,
};
use chatter_core::paging::search_key;
use chatter_core::store::{
    ChatStore, ChatUpdate, Created, NewChat, ReadMarkerStore, Removal, StoreResult, direct_pair_key,
};
use chatter_core::{ChatId, Timestamp, UserId};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

fn summary(conn: &Connection, chat: Chat, member: &Member) -> StoreResult<ChatSummary> {
    let last_message = conn
        .cached_row(
            &format!("SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ?1 ORDER BY seq DESC LIMIT 1"),
            [chat.id.as_str()],
            rows::message,
        )
        .optional()
        .map_err(map_err)?;
    let unread: i64 = conn
        .cached_row(
            "SELECT count(*) FROM messages WHERE chat_id = ?1 AND seq > ?2 AND sender_id <> ?3 AND deleted = 0",
            params![chat.id.as_str(), member.read_seq as i64, member.user_id.as_str()],
            |r| r.get(0),
        )
        .map_err(map_err)?;
    Ok(ChatSummary { chat, role: member.role, last_message, unread_count: unread as u64, read_seq: member.read_seq })
}

fn oldest_member(tx: &Transaction<'_>, chat_id: &str, role: Option<&str>) -> StoreResult<Option<String>> {
    tx.cached_row(
        "SELECT user_id FROM members WHERE chat_id = ?1 AND (?2 IS NULL OR role = ?2)
         ORDER BY joined_at, user_id LIMIT 1",
        params![chat_id, role],
        |r| r.get(0),
    )
    .optional()
    .map_err(map_err)
}

#[async_trait::async_trait]
impl ChatStore for SqliteStore {
    async fn create_chat(&self, new: NewChat) -> StoreResult<Created<Chat>> {
        self.write(move |tx| {
            let direct_key = match (new.kind, new.members.as_slice()) {
                (ChatKind::Direct, [(a, _), (b, _)]) => Some(direct_pair_key(a, b)),
                (ChatKind::Direct, _) => return Err(StoreError::Other("a direct chat needs two members".into())),
                _ => None,
            };
            if let Some(key) = &direct_key {
                let existing = tx
                    .cached_row(&format!("SELECT {CHAT_COLS} FROM chats c WHERE c.direct_key = ?1"), [key], rows::chat)
                    .optional()
                    .map_err(map_err)?;
                if let Some(chat) = existing {
                    return Ok(Created::Existing(chat));
                }
            }
            let title = new.title.as_ref().map(|t| t.as_str().to_owned());
            tx.cached_exec(
                "INSERT INTO chats (id, kind, title, title_key, visibility, owner_id, direct_key, member_count,
                                    created_at, last_activity_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                params![
                    new.id.as_str(),
                    new.kind.as_str(),
                    title,
                    title.as_deref().map(search_key),
                    new.visibility.as_str(),
                    new.owner_id.as_ref().map(UserId::as_str),
                    direct_key,
                    new.members.len() as i64,
                    new.created_at.as_micros()
                ],
            )
            .map_err(map_err)?;
            for (user_id, role) in &new.members {
                tx.cached_exec(
                    "INSERT INTO members (chat_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)",
                    params![new.id.as_str(), user_id.as_str(), role.as_str(), new.created_at.as_micros()],
                )
                .map_err(map_err)?;
            }
            Ok(Created::New(require_chat(tx, new.id.as_str())?))
        })
        .await
    }

    async fn chat(&self, id: &ChatId) -> StoreResult<Option<Chat>> {
        let id = id.to_string();
        self.read_now(move |c| load_chat(c, &id)).await
    }

    async fn member(&self, chat_id: &ChatId, user_id: &UserId) -> StoreResult<Option<Member>> {
        let (chat_id, user_id) = (chat_id.to_string(), user_id.to_string());
        self.read_now(move |c| load_member(c, &chat_id, &user_id)).await
    }

    async fn members(
        &self,
        chat_id: &ChatId,
        after: Option<(Timestamp, UserId)>,
        limit: usize,
    ) -> StoreResult<Vec<MemberEntry>> {
        let chat_id = chat_id.to_string();
        let (after_t, after_id) = after.map(|(t, id)| (t.as_micros(), id.to_string())).unzip();
        self.read(move |c| {
            let user_cols = USER_COLS.split(", ").map(|col| format!("u.{col}")).collect::<Vec<_>>().join(", ");
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {MEMBER_COLS}, {user_cols} FROM members m JOIN users u ON u.id = m.user_id
                     WHERE m.chat_id = ?1 AND (?2 IS NULL OR (m.joined_at, m.user_id) > (?2, ?3))
                     ORDER BY m.joined_at, m.user_id LIMIT ?4"
                ))
                .map_err(map_err)?;
            let found = stmt
                .query_map(params![chat_id, after_t, after_id, limit as i64], |r| {
                    Ok(MemberEntry { member: rows::member(r, 0)?, user: rows::user(r, 5)? })
                })
                .map_err(map_err)?;
            found.collect::<Result<Vec<_>, _>>().map_err(map_err)
        })
        .await
    }

    async fn chat_heads(&self, user_id: &UserId) -> StoreResult<Vec<(ChatId, u64)>> {
        let user_id = user_id.to_string();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT c.id, c.last_event_seq FROM members m JOIN chats c ON c.id = m.chat_id WHERE m.user_id = ?1",
                )
                .map_err(map_err)?;
            let found = stmt
                .query_map([user_id], |r| Ok((ChatId::new(r.get::<_, String>(0)?), r.get::<_, i64>(1)? as u64)))
                .map_err(map_err)?;
            found.collect::<Result<Vec<_>, _>>().map_err(map_err)
        })
        .await
    }

    async fn presence_audience(&self, user_id: &UserId, max_group: u64) -> StoreResult<Vec<UserId>> {
        let user_id = user_id.to_string();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT DISTINCT o.user_id FROM members m
                     JOIN chats c ON c.id = m.chat_id
                     JOIN members o ON o.chat_id = m.chat_id AND o.user_id <> m.user_id
                     WHERE m.user_id = ?1 AND (c.kind = 'direct' OR c.member_count <= ?2)
                     ORDER BY o.user_id",
                )
                .map_err(map_err)?;
            let found = stmt
                .query_map(params![user_id, max_group as i64], |r| Ok(UserId::new(r.get::<_, String>(0)?)))
                .map_err(map_err)?;
            found.collect::<Result<Vec<_>, _>>().map_err(map_err)
        })
        .await
    }

    async fn chats_of_user(
        &self,
        user_id: &UserId,
        after: Option<(Timestamp, ChatId)>,
        limit: usize,
    ) -> StoreResult<Vec<ChatSummary>> {
        let user_id = user_id.to_string();
        let (after_t, after_id) = after.map(|(t, id)| (t.as_micros(), id.to_string())).unzip();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLS}, {MEMBER_COLS} FROM members m JOIN chats c ON c.id = m.chat_id
                     WHERE m.user_id = ?1 AND (?2 IS NULL OR (c.last_activity_at, c.id) < (?2, ?3))
                     ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?4"
                ))
                .map_err(map_err)?;
            let found = stmt
                .query_map(params![user_id, after_t, after_id, limit as i64], |r| {
                    Ok((rows::chat(r)?, rows::member(r, 10)?))
                })
                .map_err(map_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(map_err)?;
            found.into_iter().map(|(chat, member)| summary(c, chat, &member)).collect()
        })
        .await
    }

    async fn chat_summary(&self, chat_id: &ChatId, user_id: &UserId) -> StoreResult<Option<ChatSummary>> {
        let (chat_id, user_id) = (chat_id.to_string(), user_id.to_string());
        self.read(move |c| {
            let (Some(chat), Some(member)) = (load_chat(c, &chat_id)?, load_member(c, &chat_id, &user_id)?) else {
                return Ok(None);
            };
            summary(c, chat, &member).map(Some)
        })
        .await
    }

    async fn search_public_chats(
        &self,
        query: &str,
        after: Option<(String, ChatId)>,
        limit: usize,
    ) -> StoreResult<Vec<Chat>> {
        let query = query.to_owned();
        let (after_title, after_id) = after.map(|(t, id)| (t, id.to_string())).unzip();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {CHAT_COLS} FROM chats c
                     WHERE c.kind = 'group' AND c.visibility = 'public' AND instr(c.title_key, ?1) > 0
                       AND (?2 IS NULL OR (c.title_key, c.id) > (?2, ?3))
                     ORDER BY c.title_key, c.id LIMIT ?4"
                ))
                .map_err(map_err)?;
            let found =
                stmt.query_map(params![query, after_title, after_id, limit as i64], rows::chat).map_err(map_err)?;
            found.collect::<Result<Vec<_>, _>>().map_err(map_err)
        })
        .await
    }

    async fn update_chat(&self, id: &ChatId, update: ChatUpdate) -> StoreResult<(Chat, ChatEvent)> {
        let id = id.clone();
        self.write(move |tx| {
            require_chat(tx, id.as_str())?;
            if let Some(t) = &update.title {
                tx.cached_exec(
                    "UPDATE chats SET title = ?2, title_key = ?3 WHERE id = ?1",
                    params![id.as_str(), t.as_str(), search_key(t.as_str())],
                )
                .map_err(map_err)?;
            }
            if let Some(v) = update.visibility {
                tx.cached_exec("UPDATE chats SET visibility = ?2 WHERE id = ?1", params![id.as_str(), v.as_str()])
                    .map_err(map_err)?;
            }
            let chat = require_chat(tx, id.as_str())?;
            let event = record_event(tx, &id, ChatEventKind::ChatUpdated { chat })?;
            Ok((require_chat(tx, id.as_str())?, event))
        })
        .await
    }

    async fn add_member(
        &self,
        chat_id: &ChatId,
        user: &User,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<Option<(Member, ChatEvent)>> {
        let (chat_id, user) = (chat_id.clone(), user.clone());
        self.write(move |tx| {
            require_chat(tx, chat_id.as_str())?;
            if load_member(tx, chat_id.as_str(), user.id.as_str())?.is_some() {
                return Ok(None);
            }
            tx.cached_exec(
                "INSERT INTO members (chat_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4)",
                params![chat_id.as_str(), user.id.as_str(), role.as_str(), at.as_micros()],
            )
            .map_err(map_err)?;
            tx.cached_exec("UPDATE chats SET member_count = member_count + 1 WHERE id = ?1", [chat_id.as_str()])
                .map_err(map_err)?;
            let member = load_member(tx, chat_id.as_str(), user.id.as_str())?.ok_or(StoreError::NotFound("member"))?;
            let event = record_event(tx, &chat_id, ChatEventKind::MemberJoined { user, role })?;
            Ok(Some((member, event)))
        })
        .await
    }

    async fn set_role(&self, chat_id: &ChatId, user_id: &UserId, role: Role) -> StoreResult<(Member, ChatEvent)> {
        let (chat_id, user_id) = (chat_id.clone(), user_id.clone());
        self.write(move |tx| {
            let current = load_member(tx, chat_id.as_str(), user_id.as_str())?.ok_or(StoreError::NotFound("member"))?;
            if current.role == Role::Owner {
                return Err(StoreError::Conflict("the owner's role changes only by handover"));
            }
            tx.cached_exec(
                "UPDATE members SET role = ?3 WHERE chat_id = ?1 AND user_id = ?2",
                params![chat_id.as_str(), user_id.as_str(), role.as_str()],
            )
            .map_err(map_err)?;
            let member = load_member(tx, chat_id.as_str(), user_id.as_str())?.ok_or(StoreError::NotFound("member"))?;
            let event = record_event(tx, &chat_id, ChatEventKind::MemberRole { user_id, role })?;
            Ok((member, event))
        })
        .await
    }

    async fn remove_member(&self, chat_id: &ChatId, user_id: &UserId, reason: LeaveReason) -> StoreResult<Removal> {
        let (chat_id, user_id) = (chat_id.clone(), user_id.clone());
        self.write(move |tx| {
            let (cid, uid) = (chat_id.as_str(), user_id.as_str());
            let gone = load_member(tx, cid, uid)?.ok_or(StoreError::NotFound("member"))?;
            tx.cached_exec("DELETE FROM members WHERE chat_id = ?1 AND user_id = ?2", [cid, uid]).map_err(map_err)?;
            let left: i64 = tx
                .cached_row(
                    "UPDATE chats SET member_count = member_count - 1 WHERE id = ?1 RETURNING member_count",
                    [cid],
                    |r| r.get(0),
                )
                .map_err(map_err)?;
            if left == 0 {
                tx.cached_exec("DELETE FROM chats WHERE id = ?1", [cid]).map_err(map_err)?;
                return Ok(Removal { events: Vec::new(), new_owner: None, chat_deleted: true });
            }
            let mut events =
                vec![record_event(tx, &chat_id, ChatEventKind::MemberLeft { user_id: user_id.clone(), reason })?];
            let mut new_owner = None;
            if gone.role == Role::Owner {
                let heir = match oldest_member(tx, cid, Some("admin"))? {
                    Some(h) => h,
                    None => oldest_member(tx, cid, None)?.ok_or(StoreError::Other("no heir".into()))?,
                };
                tx.cached_exec("UPDATE members SET role = 'owner' WHERE chat_id = ?1 AND user_id = ?2", [cid, &heir])
                    .map_err(map_err)?;
                tx.cached_exec("UPDATE chats SET owner_id = ?2 WHERE id = ?1", [cid, &heir]).map_err(map_err)?;
                let heir = UserId::new(heir);
                events.push(record_event(
                    tx,
                    &chat_id,
                    ChatEventKind::MemberRole { user_id: heir.clone(), role: Role::Owner },
                )?);
                let chat = require_chat(tx, cid)?;
                events.push(record_event(tx, &chat_id, ChatEventKind::ChatUpdated { chat })?);
                new_owner = Some(heir);
            }
            Ok(Removal { events, new_owner, chat_deleted: false })
        })
        .await
    }
}

#[async_trait::async_trait]
impl ReadMarkerStore for SqliteStore {
    async fn mark_read(&self, chat_id: &ChatId, user_id: &UserId, seq: u64) -> StoreResult<u64> {
        let (chat_id, user_id) = (chat_id.to_string(), user_id.to_string());
        self.write(move |tx| {
            tx.cached_row(
                "UPDATE members SET read_seq = max(read_seq, ?3) WHERE chat_id = ?1 AND user_id = ?2 RETURNING read_seq",
                params![chat_id, user_id, seq as i64],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(map_err)?
            .map(|s| s as u64)
            .ok_or(StoreError::NotFound("member"))
        })
        .await
    }
}
