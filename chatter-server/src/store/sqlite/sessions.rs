//! `SessionStore` on SQLite.

use super::Cached;
use super::rows::{SESSION_COLS, session};
use super::{SqliteStore, map_err};
use chatter_core::model::Session;
use chatter_core::store::{SessionStore, StoreResult};
use chatter_core::{SessionId, Timestamp, UserId};
use rusqlite::{OptionalExtension, params};

#[async_trait::async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, s: Session) -> StoreResult<()> {
        self.write(move |tx| {
            tx.cached_exec(
                "INSERT INTO sessions (id, user_id, token_hash, device_name, created_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    s.id.as_str(),
                    s.user_id.as_str(),
                    s.token_hash,
                    s.device_name,
                    s.created_at.as_micros(),
                    s.last_seen_at.as_micros()
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn session_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let hash = token_hash.to_owned();
        self.read(move |c| {
            c.cached_row(&format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = ?1"), [hash], session)
                .optional()
                .map_err(map_err)
        })
        .await
    }

    async fn sessions_of_user(&self, user_id: &UserId) -> StoreResult<Vec<Session>> {
        let user_id = user_id.to_string();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {SESSION_COLS} FROM sessions WHERE user_id = ?1 ORDER BY created_at, id"
                ))
                .map_err(map_err)?;
            let rows = stmt.query_map([user_id], session).map_err(map_err)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
        })
        .await
    }

    async fn touch_session(&self, id: &SessionId, at: Timestamp) -> StoreResult<()> {
        let id = id.to_string();
        self.write(move |tx| {
            tx.cached_exec("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1", params![id, at.as_micros()])
                .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, user_id: &UserId, id: &SessionId) -> StoreResult<bool> {
        let (user_id, id) = (user_id.to_string(), id.to_string());
        self.write(move |tx| {
            let n = tx
                .cached_exec("DELETE FROM sessions WHERE id = ?1 AND user_id = ?2", params![id, user_id])
                .map_err(map_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_sessions_of_user(
        &self,
        user_id: &UserId,
        except: Option<&SessionId>,
    ) -> StoreResult<Vec<SessionId>> {
        let (user_id, except) = (user_id.to_string(), except.map(ToString::to_string));
        self.write(move |tx| {
            let mut stmt = tx
                .prepare_cached("DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR id <> ?2) RETURNING id")
                .map_err(map_err)?;
            let rows = stmt
                .query_map(params![user_id, except], |r| Ok(SessionId::new(r.get::<_, String>(0)?)))
                .map_err(map_err)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
        })
        .await
    }
}
