//! A logged-in session and where the app keeps it between runs.

#[cfg_attr(target_family = "wasm", allow(unused_imports))]
use crate::error::{Result, SdkError};
use crate::platform::{SendOutsideWasm, SyncOutsideWasm};
use chatter_core::{SessionId, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

#[cfg(target_family = "wasm")]
pub use crate::browser::BrowserSessionStore;

/// What a client needs to act as a user without logging in again. Keep it secret: the
/// token is a bearer credential.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
///
/// ```no_run
/// # fn demo() {
/// use chatter_sdk::Session;
/// let session = Session { user_id: "u1".into(), session_id: "s1".into(), token: "secret".into() };
/// assert!(!format!("{session:?}").contains("secret"), "Debug hides the token");
/// # }
/// ```
pub struct Session {
    /// The user.
    pub user_id: UserId,
    /// The session on the server (listed by `GET /v1/sessions`).
    pub session_id: SessionId,
    /// The bearer token.
    pub token: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Where the app keeps the session, so it reopens logged in. The client saves it after
/// `register`/`login`, and clears it on `logout` or when the server ends the session.
///
/// ```
/// use chatter_sdk::session::{MemorySessionStore, Session, SessionStore};
/// # futures::executor::block_on(async {
/// let store = MemorySessionStore::default();
/// assert!(store.load().await.unwrap().is_none());
/// let session = Session { user_id: "u".into(), session_id: "s".into(), token: "t".into() };
/// store.save(&session).await.unwrap();
/// assert_eq!(store.load().await.unwrap(), Some(session));
/// # });
/// ```
#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
pub trait SessionStore: SendOutsideWasm + SyncOutsideWasm + std::fmt::Debug {
    /// The saved session, if any.
    async fn load(&self) -> Result<Option<Session>>;
    /// Saves `session`, replacing any earlier one.
    async fn save(&self, session: &Session) -> Result<()>;
    /// Forgets the saved session.
    async fn clear(&self) -> Result<()>;
}

/// Keeps the session in memory (for tests, or apps that log in every run).
#[derive(Debug, Default)]
///
/// ```no_run
/// # fn demo() {
/// let client = chatter_sdk::Client::builder()
///     .server("http://127.0.0.1:8080")
///     .session_store(chatter_sdk::session::MemorySessionStore::default());
/// # }
/// ```
pub struct MemorySessionStore {
    session: Mutex<Option<Session>>,
}

#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
impl SessionStore for MemorySessionStore {
    async fn load(&self) -> Result<Option<Session>> {
        Ok(self.session.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    async fn save(&self, session: &Session) -> Result<()> {
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = Some(session.clone());
        Ok(())
    }

    async fn clear(&self) -> Result<()> {
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }
}

/// Keeps the session in a JSON file (created with owner-only permissions on Unix).
#[cfg(not(target_family = "wasm"))]
#[derive(Debug, Clone)]
///
/// ```no_run
/// # async fn demo() -> chatter_sdk::Result<()> {
/// use chatter_sdk::session::FileSessionStore;
/// let client = chatter_sdk::Client::builder()
///     .server("http://127.0.0.1:8080")
///     .session_store(FileSessionStore::new("/var/lib/myapp/session.json"))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
pub struct FileSessionStore {
    path: std::path::PathBuf,
}

#[cfg(not(target_family = "wasm"))]
impl FileSessionStore {
    /// A store in the file at `path` (its folder must exist).
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// let store = chatter_sdk::session::FileSessionStore::new("session.json");
    /// # Ok(()) }
    /// ```
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[cfg(not(target_family = "wasm"))]
pub(crate) fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    // Written aside and renamed, so a crash never leaves half a file.
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(not(target_family = "wasm"))]
#[async_trait::async_trait]
impl SessionStore for FileSessionStore {
    async fn load(&self) -> Result<Option<Session>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| SdkError::Storage(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SdkError::Storage(e.to_string())),
        }
    }

    async fn save(&self, session: &Session) -> Result<()> {
        let bytes = serde_json::to_vec(session).map_err(|e| SdkError::Storage(e.to_string()))?;
        write_private(&self.path, &bytes).map_err(|e| SdkError::Storage(e.to_string()))
    }

    async fn clear(&self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SdkError::Storage(e.to_string())),
        }
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_store_keeps_the_session_across_instances() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("session.json");
        let session = Session { user_id: "u1".into(), session_id: "s1".into(), token: "secret".into() };
        FileSessionStore::new(&path).save(&session).await.expect("save");
        assert_eq!(FileSessionStore::new(&path).load().await.expect("load"), Some(session.clone()));
        assert!(!format!("{session:?}").contains("secret"), "Debug hides the token");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read it");
        }
        FileSessionStore::new(&path).clear().await.expect("clear");
        assert_eq!(FileSessionStore::new(&path).load().await.expect("load"), None);
        std::fs::write(&path, b"not json").expect("write");
        assert!(matches!(FileSessionStore::new(&path).load().await, Err(SdkError::Storage(_))));
    }
}
