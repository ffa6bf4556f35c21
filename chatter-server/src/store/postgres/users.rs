//! `UserStore` on Postgres.

use super::rows::{Db, USER_COLS, clamp, get, user};
use super::{PgStore, is_unique_violation, map_err};
use chatter_core::StoreError;
use chatter_core::UserId;
use chatter_core::model::{DELETED_USER_NAME, User};
use chatter_core::paging::search_key;
use chatter_core::store::{NewUser, ProfileUpdate, StoreResult, UserCredentials, UserStore};
use chatter_core::value::Username;

async fn credentials(db: &impl Db, column: &str, value: &str) -> StoreResult<Option<UserCredentials>> {
    let sql = format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.{column} = $1");
    db.opt(&sql, &[&value])
        .await?
        .map(|r| Ok(UserCredentials { user: user(&r, 0)?, password_hash: get(&r, 7)? }))
        .transpose()
}

#[async_trait::async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "INSERT INTO users AS u (id, username, display_name, display_key, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLS}"
            ))
            .await
            .map_err(map_err)?;
        let inserted = client
            .query_one(
                &statement,
                &[
                    &new.id.as_str(),
                    &new.username.as_str(),
                    &new.display_name.as_str(),
                    &search_key(new.display_name.as_str()),
                    &new.password_hash,
                    &new.created_at.as_micros(),
                ],
            )
            .await;
        match inserted {
            Ok(row) => user(&row, 0),
            Err(e) if is_unique_violation(&e) => Err(StoreError::UsernameTaken),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        let client = self.client().await?;
        client
            .opt(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"), &[&id.as_str()])
            .await?
            .map(|r| user(&r, 0))
            .transpose()
    }

    async fn credentials_by_username(&self, username: &Username) -> StoreResult<Option<UserCredentials>> {
        let client = self.client().await?;
        credentials(&client, "username", username.as_str()).await
    }

    async fn credentials_by_id(&self, id: &UserId) -> StoreResult<Option<UserCredentials>> {
        let client = self.client().await?;
        credentials(&client, "id", id.as_str()).await
    }

    async fn update_profile(&self, id: &UserId, update: ProfileUpdate) -> StoreResult<User> {
        let client = self.client().await?;
        let display_name = update.display_name.as_ref().map(|d| d.as_str());
        let display_key = display_name.map(search_key);
        let bio = update.bio.as_ref().map(|b| b.as_str());
        let avatar_url = update.avatar_url.as_ref().map(|a| a.as_str());
        // One statement: the fields given change together or not at all.
        client
            .opt(
                &format!(
                    "UPDATE users u SET display_name = COALESCE($2, u.display_name),
                                        display_key = COALESCE($3, u.display_key),
                                        bio = COALESCE($4, u.bio),
                                        avatar_url = COALESCE($5, u.avatar_url)
                     WHERE u.id = $1 RETURNING {USER_COLS}"
                ),
                &[&id.as_str(), &display_name, &display_key, &bio, &avatar_url],
            )
            .await?
            .map(|r| user(&r, 0))
            .transpose()?
            .ok_or(StoreError::NotFound("user"))
    }

    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()> {
        let client = self.client().await?;
        let n = client.exec("UPDATE users SET password_hash = $2 WHERE id = $1", &[&id.as_str(), &hash]).await?;
        if n == 0 { Err(StoreError::NotFound("user")) } else { Ok(()) }
    }

    async fn mark_user_deleted(&self, id: &UserId) -> StoreResult<User> {
        let client = self.client().await?;
        client
            .opt(
                &format!(
                    "UPDATE users u SET display_name = $2, display_key = $3, bio = '', avatar_url = '',
                                        password_hash = NULL, deleted = TRUE
                     WHERE u.id = $1 RETURNING {USER_COLS}"
                ),
                &[&id.as_str(), &DELETED_USER_NAME, &search_key(DELETED_USER_NAME)],
            )
            .await?
            .map(|r| user(&r, 0))
            .transpose()?
            .ok_or(StoreError::NotFound("user"))
    }

    async fn search_users(&self, prefix: &str, after_username: Option<&str>, limit: usize) -> StoreResult<Vec<User>> {
        let client = self.client().await?;
        let rows = client
            .rows(
                &format!(
                    "SELECT {USER_COLS} FROM users u
                     WHERE NOT u.deleted
                       AND (starts_with(u.username, $1) OR starts_with(u.display_key, $1))
                       AND ($2::TEXT IS NULL OR u.username > $2)
                     ORDER BY u.username LIMIT $3"
                ),
                &[&prefix, &after_username, &clamp(limit)],
            )
            .await?;
        rows.iter().map(|r| user(r, 0)).collect()
    }
}
