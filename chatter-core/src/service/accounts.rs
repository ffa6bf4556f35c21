//! Accounts and sessions: register, log in, authenticate, profiles, passwords.

use super::{Caller, Notice, Service};
use crate::error::Error;
use crate::id::{SessionId, UserId};
use crate::model::{ChatKind, LeaveReason, Session, User};
use crate::paging::{Cursor, Page, search_key};
use crate::protocol::{SessionInfo, UpdateProfileRequest};
use crate::store::{NewUser, ProfileUpdate};
use crate::value::{AvatarUrl, Bio, DeviceName, DisplayName, Password, Username};

/// What registration needs.
#[derive(Clone)]
pub struct RegisterInput {
    /// Wanted username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Display name (defaults to the username).
    pub display_name: Option<String>,
    /// Device name for the first session.
    pub device_name: Option<String>,
}

/// A successful registration or login.
#[derive(Clone)]
pub struct Login {
    /// The user.
    pub user: User,
    /// The new session's bearer token (shown once).
    pub token: String,
    /// The new session.
    pub session: Session,
}

impl std::fmt::Debug for RegisterInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterInput")
            .field("username", &self.username)
            .field("password", &"***")
            .field("display_name", &self.display_name)
            .field("device_name", &self.device_name)
            .finish()
    }
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("token", &"***")
            .field("session", &self.session)
            .finish()
    }
}

fn parse_device(raw: Option<&str>) -> Result<Option<String>, Error> {
    match raw {
        None => Ok(None),
        Some(d) => {
            let d = DeviceName::parse(d)?;
            Ok((!d.as_str().is_empty()).then(|| d.into_string()))
        }
    }
}

impl Service {
    /// Registers a user and logs them in.
    pub async fn register(&self, input: RegisterInput) -> Result<Login, Error> {
        let username = Username::parse(&input.username)?;
        let password = Password::parse("password", &input.password)?;
        let display_name = match input.display_name.as_deref() {
            Some(d) => DisplayName::parse(d)?,
            None => DisplayName::from_trusted(username.as_str()),
        };
        let device = parse_device(input.device_name.as_deref())?;
        // Fail fast on a taken name before paying for a hash; the store re-checks.
        if self.store.credentials_by_username(&username).await?.is_some() {
            return Err(Error::UsernameTaken);
        }
        let password_hash = self.credentials.hash_password(&password).await?;
        let user = self
            .store
            .create_user(NewUser {
                id: UserId::new(self.ids.new_id()),
                username,
                display_name,
                password_hash,
                created_at: self.now(),
            })
            .await?;
        self.open_session(user, device).await
    }

    /// Logs in. An unknown username and a wrong password fail alike, in about the same
    /// time.
    pub async fn login(&self, username: &str, password: &str, device_name: Option<&str>) -> Result<Login, Error> {
        let device = parse_device(device_name)?;
        let key = username.trim().to_lowercase();
        let name = Username::parse(username).ok();
        // Only names that could exist are limited: junk names (of any length) cannot
        // log in, and would only fill the limiter's table.
        if name.is_some() {
            self.logins.attempt(&key, self.now()).await?;
        }
        let password = Password::for_check(password);
        let creds = match &name {
            Some(u) => self.store.credentials_by_username(u).await?,
            None => None,
        };
        let hash = creds.as_ref().and_then(|c| c.password_hash.as_deref());
        let ok = self.credentials.verify_password(&password, hash).await?;
        match creds {
            Some(c) if ok && !c.user.deleted => {
                self.logins.succeeded(&key).await;
                self.open_session(c.user, device).await
            }
            // The attempt stays counted as a failure.
            _ => Err(Error::Unauthenticated),
        }
    }

    async fn open_session(&self, user: User, device_name: Option<String>) -> Result<Login, Error> {
        let token = self.credentials.new_token();
        let now = self.now();
        let session = Session {
            id: SessionId::new(self.ids.new_id()),
            user_id: user.id.clone(),
            token_hash: self.credentials.token_hash(&token),
            device_name,
            created_at: now,
            last_seen_at: now,
        };
        self.store.create_session(session.clone()).await?;
        Ok(Login { user, token, session })
    }

    /// Finds who a bearer token belongs to. Expired sessions are deleted on sight.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, Error> {
        let hash = self.credentials.token_hash(token);
        let (session, user) = self.store.session_with_user(&hash).await?.ok_or(Error::Unauthenticated)?;
        let now = self.now();
        if now.as_micros() - session.last_seen_at.as_micros() > self.config.session_idle_ttl_micros {
            self.store.delete_session(&session.user_id, &session.id).await?;
            return Err(Error::Unauthenticated);
        }
        let user = user.ok_or(Error::Unauthenticated)?;
        if user.deleted {
            return Err(Error::Unauthenticated);
        }
        if now.as_micros() - session.last_seen_at.as_micros() > self.config.session_touch_interval_micros {
            self.store.touch_session(&session.id, now).await?;
        }
        Ok(Caller { user, session_id: session.id })
    }

    /// Ends the caller's session.
    pub async fn logout(&self, caller: &Caller) -> Result<(), Error> {
        self.store.delete_session(caller.user_id(), &caller.session_id).await?;
        self.revoked(caller.user_id(), vec![caller.session_id.clone()]);
        Ok(())
    }

    fn revoked(&self, user_id: &UserId, session_ids: Vec<SessionId>) {
        if !session_ids.is_empty() {
            self.publish(Notice::SessionsRevoked { user_id: user_id.clone(), session_ids });
        }
    }

    /// The caller's sessions, oldest first.
    pub async fn sessions(&self, caller: &Caller) -> Result<Vec<SessionInfo>, Error> {
        let sessions = self.store.sessions_of_user(caller.user_id()).await?;
        let now = self.now().as_micros();
        Ok(sessions
            .into_iter()
            .filter(|s| now - s.last_seen_at.as_micros() <= self.config.session_idle_ttl_micros)
            .map(|s| SessionInfo::new(s, &caller.session_id))
            .collect())
    }

    /// Revokes one of the caller's own sessions (another user's is "not found").
    pub async fn revoke_session(&self, caller: &Caller, id: &SessionId) -> Result<(), Error> {
        if !self.store.delete_session(caller.user_id(), id).await? {
            return Err(Error::not_found("session"));
        }
        self.revoked(caller.user_id(), vec![id.clone()]);
        Ok(())
    }

    /// Changes the caller's profile fields that are given.
    pub async fn update_profile(&self, caller: &Caller, req: UpdateProfileRequest) -> Result<User, Error> {
        let update = ProfileUpdate {
            display_name: req.display_name.as_deref().map(DisplayName::parse).transpose()?,
            bio: req.bio.as_deref().map(Bio::parse).transpose()?,
            avatar_url: req.avatar_url.as_deref().map(AvatarUrl::parse).transpose()?,
        };
        Ok(self.store.update_profile(caller.user_id(), update).await?)
    }

    async fn reauthenticate(&self, caller: &Caller, password: &str) -> Result<(), Error> {
        let creds = self.store.credentials_by_id(caller.user_id()).await?;
        let hash = creds.as_ref().and_then(|c| c.password_hash.as_deref());
        if self.credentials.verify_password(&Password::for_check(password), hash).await? {
            Ok(())
        } else {
            Err(Error::WrongPassword)
        }
    }

    /// Changes the password; every other session of the user is revoked.
    pub async fn change_password(&self, caller: &Caller, old: &str, new: &str) -> Result<(), Error> {
        let new = Password::parse("new_password", new)?;
        self.reauthenticate(caller, old).await?;
        let hash = self.credentials.hash_password(&new).await?;
        self.store.set_password_hash(caller.user_id(), &hash).await?;
        let gone = self.store.delete_sessions_of_user(caller.user_id(), Some(&caller.session_id)).await?;
        self.revoked(caller.user_id(), gone);
        Ok(())
    }

    /// Deletes the caller's account: sessions revoked, groups left (reason `deleted`),
    /// the profile blanked and hidden from search; messages stay.
    pub async fn delete_account(&self, caller: &Caller, password: &str) -> Result<(), Error> {
        self.reauthenticate(caller, password).await?;
        let me = caller.user_id();
        // First the account stops working (no login, no token), so nothing can join a
        // chat behind the clean-up; then sessions go, then group memberships.
        self.store.mark_user_deleted(me).await?;
        let gone = self.store.delete_sessions_of_user(me, None).await?;
        self.revoked(me, gone);
        for (chat_id, _) in self.store.chat_heads(me).await? {
            let Some(chat) = self.store.chat(&chat_id).await? else {
                continue;
            };
            // A direct chat keeps its two members for ever.
            if chat.kind == ChatKind::Direct {
                continue;
            }
            match self.store.remove_member(&chat_id, me, LeaveReason::Deleted).await {
                Ok(removal) => self.publish_events(removal.events),
                // Removed meanwhile by someone else: nothing left to do there.
                Err(crate::StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// A user's profile (deleted accounts show blanked).
    pub async fn user(&self, id: &UserId) -> Result<User, Error> {
        self.store.user(id).await?.ok_or_else(|| Error::not_found("user"))
    }

    /// Users whose username or display name starts with `q` (at least 2 characters).
    pub async fn search_users(&self, q: Option<&str>, limit: usize, cursor: Option<&str>) -> Result<Page<User>, Error> {
        let q = search_key(q.unwrap_or("").trim());
        if q.chars().count() < 2 {
            return Err(Error::validation("q", "must be at least 2 characters"));
        }
        let after = cursor.map(|c| Cursor::decode(c, 1).map(|c| c.parts()[0].clone())).transpose()?;
        let found = self.store.search_users(&q, after.as_deref(), limit + 1).await?;
        Ok(Page::from_fetched(found, limit, |u| Cursor::new([u.username.clone()])))
    }
}
