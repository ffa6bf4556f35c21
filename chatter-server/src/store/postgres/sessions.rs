//! `SessionStore` on Postgres.

use super::PgStore;
use super::rows::{Db, SESSION_COLS, get, session};
use chatter_core::model::Session;
use chatter_core::store::{SessionStore, StoreResult};
use chatter_core::{SessionId, Timestamp, UserId};

#[async_trait::async_trait]
impl SessionStore for PgStore {
    async fn create_session(&self, s: Session) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .exec(
                "INSERT INTO sessions (id, user_id, token_hash, device_name, created_at, last_seen_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &s.id.as_str(),
                    &s.user_id.as_str(),
                    &s.token_hash,
                    &s.device_name,
                    &s.created_at.as_micros(),
                    &s.last_seen_at.as_micros(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn session_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let client = self.client().await?;
        client
            .opt(&format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1"), &[&token_hash])
            .await?
            .as_ref()
            .map(session)
            .transpose()
    }

    async fn sessions_of_user(&self, user_id: &UserId) -> StoreResult<Vec<Session>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!("SELECT {SESSION_COLS} FROM sessions WHERE user_id = $1 ORDER BY created_at, id"),
                &[&user_id.as_str()],
            )
            .await?;
        rows.iter().map(session).collect()
    }

    async fn touch_session(&self, id: &SessionId, at: Timestamp) -> StoreResult<()> {
        let client = self.client().await?;
        client.exec("UPDATE sessions SET last_seen_at = $2 WHERE id = $1", &[&id.as_str(), &at.as_micros()]).await?;
        Ok(())
    }

    async fn delete_session(&self, user_id: &UserId, id: &SessionId) -> StoreResult<bool> {
        let client = self.client().await?;
        let n = client
            .exec("DELETE FROM sessions WHERE id = $1 AND user_id = $2", &[&id.as_str(), &user_id.as_str()])
            .await?;
        Ok(n > 0)
    }

    async fn delete_sessions_of_user(
        &self,
        user_id: &UserId,
        except: Option<&SessionId>,
    ) -> StoreResult<Vec<SessionId>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                "DELETE FROM sessions WHERE user_id = $1 AND ($2::TEXT IS NULL OR id <> $2) RETURNING id",
                &[&user_id.as_str(), &except.map(SessionId::as_str)],
            )
            .await?;
        rows.iter().map(|r| Ok(SessionId::new(get::<String>(r, 0)?))).collect()
    }
}
