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

/// Runs `task` in the background (on the current tokio runtime natively).
#[cfg(not(target_family = "wasm"))]
pub(crate) fn spawn(task: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(task);
}

/// Runs `task` in the background (on the page's event loop).
#[cfg(target_family = "wasm")]
pub(crate) fn spawn(task: impl Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(task);
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

/// Small, fast, non-cryptographic randomness for backoff jitter and local ids
/// (xorshift seeded from the clock and a counter: no OS randomness needed on wasm32).
pub(crate) fn random_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = (micros_now() as u64) ^ 0x9e37_79b9_7f4a_7c15;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x
}
