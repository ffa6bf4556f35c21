//! `UserStore` on SQLite.

use super::Cached;
use super::rows::{USER_COLS, user};
use super::{SqliteStore, map_err};
use chatter_core::StoreError;
use chatter_core::UserId;
use chatter_core::model::{DELETED_USER_NAME, User};
use chatter_core::paging::search_key;
use chatter_core::store::{NewUser, ProfileUpdate, StoreResult, UserCredentials, UserStore};
use chatter_core::value::Username;
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

fn credentials(conn: &Connection, column: &str, value: &str) -> StoreResult<Option<UserCredentials>> {
    conn.cached_row(&format!("SELECT {USER_COLS}, password_hash FROM users WHERE {column} = ?1"), [value], |r| {
        Ok(UserCredentials { user: user(r, 0)?, password_hash: r.get(7)? })
    })
    .optional()
    .map_err(map_err)
}

fn load(conn: &Connection, id: &str) -> StoreResult<User> {
    conn.cached_row(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1"), [id], |r| user(r, 0))
        .optional()
        .map_err(map_err)?
        .ok_or(StoreError::NotFound("user"))
}

#[async_trait::async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        self.write(move |tx| {
            let inserted = tx.cached_exec(
                "INSERT INTO users (id, username, display_name, display_key, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    new.id.as_str(),
                    new.username.as_str(),
                    new.display_name.as_str(),
                    search_key(new.display_name.as_str()),
                    new.password_hash,
                    new.created_at.as_micros()
                ],
            );
            match inserted {
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                    Err(StoreError::UsernameTaken)
                }
                other => other.map_err(map_err),
            }?;
            load(tx, new.id.as_str())
        })
        .await
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        let id = id.to_string();
        self.read(move |c| match load(c, &id) {
            Ok(u) => Ok(Some(u)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    async fn credentials_by_username(&self, username: &Username) -> StoreResult<Option<UserCredentials>> {
        let name = username.as_str().to_owned();
        self.read(move |c| credentials(c, "username", &name)).await
    }

    async fn credentials_by_id(&self, id: &UserId) -> StoreResult<Option<UserCredentials>> {
        let id = id.to_string();
        self.read(move |c| credentials(c, "id", &id)).await
    }

    async fn update_profile(&self, id: &UserId, update: ProfileUpdate) -> StoreResult<User> {
        let id = id.to_string();
        self.write(move |tx| {
            load(tx, &id)?;
            if let Some(d) = &update.display_name {
                tx.cached_exec(
                    "UPDATE users SET display_name = ?2, display_key = ?3 WHERE id = ?1",
                    params![id, d.as_str(), search_key(d.as_str())],
                )
                .map_err(map_err)?;
            }
            if let Some(b) = &update.bio {
                tx.cached_exec("UPDATE users SET bio = ?2 WHERE id = ?1", params![id, b.as_str()]).map_err(map_err)?;
            }
            if let Some(a) = &update.avatar_url {
                tx.cached_exec("UPDATE users SET avatar_url = ?2 WHERE id = ?1", params![id, a.as_str()])
                    .map_err(map_err)?;
            }
            load(tx, &id)
        })
        .await
    }

    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()> {
        let (id, hash) = (id.to_string(), hash.to_owned());
        self.write(move |tx| {
            let n = tx
                .cached_exec("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![id, hash])
                .map_err(map_err)?;
            if n == 0 { Err(StoreError::NotFound("user")) } else { Ok(()) }
        })
        .await
    }

    async fn mark_user_deleted(&self, id: &UserId) -> StoreResult<User> {
        let id = id.to_string();
        self.write(move |tx| {
            let n = tx
                .cached_exec(
                    "UPDATE users SET display_name = ?2, display_key = ?3, bio = '', avatar_url = '',
                     password_hash = NULL, deleted = 1 WHERE id = ?1",
                    params![id, DELETED_USER_NAME, search_key(DELETED_USER_NAME)],
                )
                .map_err(map_err)?;
            if n == 0 {
                return Err(StoreError::NotFound("user"));
            }
            load(tx, &id)
        })
        .await
    }

    async fn search_users(&self, prefix: &str, after_username: Option<&str>, limit: usize) -> StoreResult<Vec<User>> {
        let (prefix, after) = (prefix.to_owned(), after_username.map(str::to_owned));
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {USER_COLS} FROM users
                     WHERE deleted = 0
                       AND (substr(username, 1, length(?1)) = ?1 OR substr(display_key, 1, length(?1)) = ?1)
                       AND (?2 IS NULL OR username > ?2)
                     ORDER BY username LIMIT ?3"
                ))
                .map_err(map_err)?;
            let rows = stmt.query_map(params![prefix, after, limit as i64], |r| user(r, 0)).map_err(map_err)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
        })
        .await
    }
}
