//! The session in `localStorage`.

use super::local_storage;
use crate::error::Result;
use crate::session::{Session, SessionStore};

/// Keeps the session in the browser's `localStorage`, shared by the origin's tabs, so
/// the app reopens logged in. Any script on the origin can read the token: on the
/// server's own origin the session cookie (HttpOnly) is the safer choice; this store is
/// for apps on another origin.
///
/// ```no_run
/// # async fn demo() -> chatter_sdk::Result<()> {
/// use chatter_sdk::session::BrowserSessionStore;
/// let client = chatter_sdk::Client::builder()
///     .server("https://chat.example.org")
///     .session_store(BrowserSessionStore::new("main"))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BrowserSessionStore {
    key: String,
}

impl BrowserSessionStore {
    /// A store under the key `chatter.session.<name>` (one name per account slot).
    ///
    /// ```no_run
    /// let store = chatter_sdk::session::BrowserSessionStore::new("main");
    /// ```
    pub fn new(name: &str) -> Self {
        Self { key: format!("chatter.session.{name}") }
    }
}

#[async_trait::async_trait(?Send)]
impl SessionStore for BrowserSessionStore {
    async fn load(&self) -> Result<Option<Session>> {
        let Some(saved) = local_storage::get(&self.key)? else { return Ok(None) };
        match serde_json::from_str(&saved) {
            Ok(session) => Ok(Some(session)),
            Err(e) => {
                // Written by something else: log in again rather than never start.
                tracing::warn!(error = %e, key = %self.key, "an unreadable saved session was dropped");
                local_storage::remove(&self.key)?;
                Ok(None)
            }
        }
    }

    async fn save(&self, session: &Session) -> Result<()> {
        let json = serde_json::to_string(session).map_err(|e| crate::SdkError::Storage(e.to_string()))?;
        local_storage::set(&self.key, &json)
    }

    async fn clear(&self) -> Result<()> {
        local_storage::remove(&self.key)
    }
}
