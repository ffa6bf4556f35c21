//! The Web Locks API (`navigator.locks`), bound by hand: web-sys has it only behind
//! `--cfg=web_sys_unstable_apis`, which every app would have to set.

use crate::error::{Result, SdkError};
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use tokio::sync::oneshot;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    type LockManager;

    #[wasm_bindgen(method, js_name = request)]
    fn request(this: &LockManager, name: &str, callback: &js_sys::Function) -> js_sys::Promise;

    #[wasm_bindgen(method)]
    fn query(this: &LockManager) -> js_sys::Promise;
}

fn lock_error(what: &str, e: impl std::fmt::Debug) -> SdkError {
    SdkError::Storage(format!("Web Locks {what}: {e:?}"))
}

/// `navigator.locks`, where the platform has it.
fn manager() -> Option<LockManager> {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let locks = js_sys::Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Whether this platform has Web Locks.
pub(super) fn available() -> bool {
    manager().is_some()
}

/// Takes lock `name` and keeps it for as long as the page (or worker) lives; returns
/// once it is granted. The browser lets it go when the tab closes or crashes.
pub(super) async fn hold_until_unload(name: &str) -> Result<()> {
    let manager = manager().ok_or_else(|| lock_error("request", "not available"))?;
    let (granted, on_grant) = oneshot::channel::<()>();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        let _ = granted.send(());
        js_sys::Promise::new(&mut |_, _| {}) // never settles: the lock stays held
    });
    // The request's own promise settles only when the lock is released: not awaited.
    let _ = manager.request(name, callback.unchecked_ref());
    on_grant.await.map_err(|_| lock_error("request", "the lock was never granted"))
}

/// Runs `work` holding lock `name` exclusively (across every tab of the origin).
pub(super) async fn with_lock<R: 'static>(name: &str, work: impl FnOnce() -> R + 'static) -> Result<R> {
    let manager = manager().ok_or_else(|| lock_error("request", "not available"))?;
    let result = Rc::new(RefCell::new(None));
    let out = result.clone();
    let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        *out.borrow_mut() = Some(work());
        js_sys::Promise::resolve(&JsValue::UNDEFINED)
    });
    JsFuture::from(manager.request(name, callback.unchecked_ref())).await.map_err(|e| lock_error("request", e))?;
    result.borrow_mut().take().ok_or_else(|| lock_error("request", "granted without running"))
}

/// The names of every lock held or asked for on this origin now.
pub(super) async fn names_in_use() -> Result<HashSet<String>> {
    let manager = manager().ok_or_else(|| lock_error("query", "not available"))?;
    let snapshot = JsFuture::from(manager.query()).await.map_err(|e| lock_error("query", e))?;
    let mut names = HashSet::new();
    for list in ["held", "pending"] {
        let Ok(locks) = js_sys::Reflect::get(&snapshot, &list.into()) else { continue };
        for lock in js_sys::Array::from(&locks).iter() {
            if let Some(name) = js_sys::Reflect::get(&lock, &"name".into()).ok().and_then(|n| n.as_string()) {
                names.insert(name);
            }
        }
    }
    Ok(names)
}
