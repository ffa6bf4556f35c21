//! `@chatter/sdk`: the Chatter SDK for browsers and Node, the same Rust client as
//! chatter-sdk compiled to wasm32. Every async method returns a Promise that rejects
//! with a `ChatterError`; every observable has `subscribe(callback)`, which calls back
//! at once with the current value and again on each change, and returns a
//! [`Subscription`](subscription::Subscription) to `unsubscribe()`.
#![cfg(target_family = "wasm")]

mod call;
mod chat;
mod client;
mod convert;
mod error;
mod media;
mod subscription;
mod timeline;
mod views;

use wasm_bindgen::prelude::*;

/// Panics reach the console with their message instead of "unreachable".
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}
