//! What differs between native targets and wasm32: spawning tasks, sleeping, the clock.
//! Natively the SDK runs on the app's tokio runtime and its futures are `Send`; in the
//! browser it runs on the page's event loop and they are not.

use chatter_core::Timestamp;
use std::future::Future;
use std::time::Duration;

/// `Send` natively; nothing on wasm32, where JavaScript values are not `Send`.
#[cfg(not(target_family = "wasm"))]
pub trait SendOutsideWasm: Send {}
#[cfg(not(target_family = "wasm"))]
impl<T: Send> SendOutsideWasm for T {}
/// `Send` natively; nothing on wasm32, where JavaScript values are not `Send`.
#[cfg(target_family = "wasm")]
pub trait SendOutsideWasm {}
#[cfg(target_family = "wasm")]
impl<T> SendOutsideWasm for T {}

/// `Sync` natively; nothing on wasm32.
#[cfg(not(target_family = "wasm"))]
pub trait SyncOutsideWasm: Sync {}
#[cfg(not(target_family = "wasm"))]
impl<T: Sync> SyncOutsideWasm for T {}
/// `Sync` natively; nothing on wasm32.
#[cfg(target_family = "wasm")]
pub trait SyncOutsideWasm {}
#[cfg(target_family = "wasm")]
impl<T> SyncOutsideWasm for T {}

/// Where the SDK's background tasks run: natively the tokio runtime the client was built
/// on (or was given), so a task never needs the calling thread to be inside a runtime
/// (a Kotlin or Swift main thread is not); in the browser, the page's event loop.
#[derive(Clone, Debug)]
pub(crate) struct Spawner {
    #[cfg(not(target_family = "wasm"))]
    handle: tokio::runtime::Handle,
}

impl Spawner {
    /// Spawns on `handle`, else on the runtime the caller runs in; none is an error.
    #[cfg(not(target_family = "wasm"))]
    pub(crate) fn new(handle: Option<tokio::runtime::Handle>) -> crate::Result<Self> {
        let handle = handle.or_else(|| tokio::runtime::Handle::try_current().ok()).ok_or_else(|| {
            crate::SdkError::InvalidRequest(
                "no tokio runtime: build the client inside one, or give it one with ClientBuilder::runtime".into(),
            )
        })?;
        Ok(Self { handle })
    }

    /// Spawns on the page's event loop.
    #[cfg(target_family = "wasm")]
    pub(crate) fn new() -> crate::Result<Self> {
        Ok(Self {})
    }

    /// Runs `task` in the background.
    #[cfg(not(target_family = "wasm"))]
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.handle.spawn(task);
    }

    /// Runs `task` in the background.
    #[cfg(target_family = "wasm")]
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        wasm_bindgen_futures::spawn_local(task);
    }
}

/// Waits for `duration`.
#[cfg(not(target_family = "wasm"))]
pub(crate) async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// Waits for `duration`.
#[cfg(target_family = "wasm")]
pub(crate) async fn sleep(duration: Duration) {
    gloo_timers::future::sleep(duration).await;
}

/// Microseconds since the Unix epoch.
#[cfg(not(target_family = "wasm"))]
fn micros_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// Microseconds since the Unix epoch.
#[cfg(target_family = "wasm")]
fn micros_now() -> i64 {
    (js_sys::Date::now() * 1000.0) as i64
}

/// The current time.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_micros(micros_now())
}

/// 64 random bits from the operating system's CSPRNG (the browser's `crypto` on wasm32):
/// ids made from them do not collide across threads, tabs or processes, as a clock-
/// seeded generator's can.
pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No OS randomness at all (never seen on supported platforms): still unique in
        // this process, from the clock and a counter.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        return (micros_now() as u64).rotate_left(20) ^ COUNTER.fetch_add(1, Ordering::Relaxed);
    }
    u64::from_le_bytes(bytes)
}

/// A new idempotency key for a send: 128 random bits, hex.
pub(crate) fn client_id() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_from_many_threads_never_collide() {
        let threads: Vec<_> =
            (0..8).map(|_| std::thread::spawn(|| (0..2000).map(|_| client_id()).collect::<Vec<_>>())).collect();
        let mut all = std::collections::HashSet::new();
        for t in threads {
            for id in t.join().expect("thread") {
                assert_eq!(id.len(), 32);
                assert!(all.insert(id), "a client id repeated");
            }
        }
    }
}
