//! What both brokers share about presence: changes of one user are handled one at a
//! time per node, and an announcement goes to the user's audience from the store.
//! After the audience query the user's state is checked again: if it changed meanwhile,
//! the newer change announces itself and the older one is dropped.

use chatter_core::UserId;
use chatter_core::store::Store;
use std::hash::{Hash, Hasher};
use tokio::sync::{Mutex, MutexGuard};

/// Presence goes to members of groups up to this size (and direct partners).
const GROUP_LIMIT: u64 = 100;
const STRIPES: usize = 64;

/// Locks that put one user's presence changes on this node in order (striped, so
/// different users rarely wait for each other).
#[derive(Debug)]
pub struct UserLocks(Vec<Mutex<()>>);

impl Default for UserLocks {
    fn default() -> Self {
        Self((0..STRIPES).map(|_| Mutex::new(())).collect())
    }
}

impl UserLocks {
    /// Holds `user_id`'s turn until the guard drops.
    pub async fn lock(&self, user_id: &UserId) -> MutexGuard<'_, ()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        user_id.hash(&mut hasher);
        self.0[hasher.finish() as usize % STRIPES].lock().await
    }
}

/// Who hears `user_id`'s presence (direct partners and members of small groups), or
/// `None` if the store cannot say now.
pub async fn audience(store: &dyn Store, user_id: &UserId) -> Option<Vec<UserId>> {
    match store.presence_audience(user_id, GROUP_LIMIT).await {
        Ok(audience) => Some(audience),
        Err(e) => {
            tracing::warn!(error = %e, "presence not announced");
            None
        }
    }
}
