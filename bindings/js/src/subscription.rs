//! Subscriptions: a JavaScript callback called with a value now and at each change,
//! until `unsubscribe()`.

use futures::future::{AbortHandle, Abortable};
use futures::{FutureExt, Stream, StreamExt};
use std::future::Future;
use wasm_bindgen::prelude::*;

/// A running subscription. `unsubscribe()` stops it: its callback is not called again.
#[wasm_bindgen]
pub struct Subscription {
    abort: AbortHandle,
}

#[wasm_bindgen]
impl Subscription {
    /// Stops the callbacks (calling it again does nothing).
    pub fn unsubscribe(&self) {
        self.abort.abort();
    }
}

fn call(callback: &js_sys::Function, value: &JsValue) {
    if let Err(e) = callback.call1(&JsValue::NULL, value) {
        log_error(&e);
    }
}

/// A callback that throws is the app's bug: it is logged, and the subscription lives on.
pub(crate) fn log_error(e: &JsValue) {
    let console = js_sys::Reflect::get(&js_sys::global(), &"console".into()).ok();
    if let Some(error) = console.as_ref().and_then(|c| js_sys::Reflect::get(c, &"error".into()).ok()) {
        let _ = js_sys::Function::from(error).call2(&JsValue::NULL, &"a subscriber threw:".into(), e);
    }
}

/// Runs `task` until it ends or the subscription is stopped.
pub(crate) fn spawn(task: impl Future<Output = ()> + 'static) -> Subscription {
    let (abort, registration) = AbortHandle::new_pair();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = Abortable::new(task, registration).await;
    });
    Subscription { abort }
}

/// Calls `callback` with `subscriber`'s value now and after each change.
pub(crate) fn observe<T: Clone + Send + Sync + 'static>(
    mut subscriber: eyeball::Subscriber<T>,
    to_js: impl Fn(&T) -> JsValue + 'static,
    callback: js_sys::Function,
) -> Subscription {
    call(&callback, &to_js(&subscriber.get()));
    spawn(async move {
        while let Some(value) = subscriber.next().await {
            call(&callback, &to_js(&value));
        }
    })
}

/// Calls `callback` with the whole list now and after each change (a burst of changes
/// is one call).
pub(crate) fn observe_list<D>(
    changes: impl Stream<Item = D> + Unpin + 'static,
    current: impl Fn() -> JsValue + 'static,
    callback: js_sys::Function,
) -> Subscription {
    call(&callback, &current());
    let mut changes = changes;
    spawn(async move {
        while changes.next().await.is_some() {
            while let Some(Some(_)) = changes.next().now_or_never() {}
            call(&callback, &current());
        }
    })
}
