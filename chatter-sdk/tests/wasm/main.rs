//! The SDK compiled to wasm32 and run in headless Chromium against a real server (behind
//! a proxy the page can cut): login, live messages, reconnection with gap-free resume,
//! and the browser's session and send-queue stores. Run by `scripts/wasm-test.sh`, which
//! starts the server and the proxy and passes their addresses at build time.
#![cfg(target_family = "wasm")]
#![allow(clippy::unwrap_used)] // test code: a failed step is a failed test

use chatter_sdk::model::Visibility;
use chatter_sdk::send_queue::{BrowserSendQueueStore, QueuedSend, SendQueueStore};
use chatter_sdk::session::BrowserSessionStore;
use chatter_sdk::{Client, SendState, SyncState, Timeline};
use std::time::Duration;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A setting scripts/wasm-test.sh passes at build time.
fn setting(value: Option<&'static str>, name: &str) -> &'static str {
    match value {
        Some(value) => value,
        None => panic!("{name} is not set at build time: run scripts/wasm-test.sh"),
    }
}

/// The server, through the proxy.
fn server() -> &'static str {
    setting(option_env!("CHATTER_WASM_SERVER"), "CHATTER_WASM_SERVER")
}

/// The server itself, for the other side of a conversation (the proxy's cuts spare it).
fn direct() -> &'static str {
    setting(option_env!("CHATTER_WASM_DIRECT_SERVER"), "CHATTER_WASM_DIRECT_SERVER")
}

/// Tells the proxy to `cut`, `hold` or `release`.
async fn proxy(action: &str) {
    let control = setting(option_env!("CHATTER_WASM_PROXY_CONTROL"), "CHATTER_WASM_PROXY_CONTROL");
    let answer = reqwest::get(format!("{control}/{action}")).await.expect("the proxy answers");
    assert!(answer.status().is_success(), "proxy {action}: {}", answer.status());
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{:08x}", (js_sys::Math::random() * f64::from(u32::MAX)) as u32)
}

async fn sleep(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

/// Waits up to 20 s for `done`.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..400 {
        if done() {
            return;
        }
        sleep(50).await;
    }
    panic!("timed out: {what}");
}

/// A client keeping its session in `localStorage` slot `slot` (as a page reloaded).
async fn in_slot(slot: &str) -> Client {
    Client::builder().server(server()).session_store(BrowserSessionStore::new(slot)).build().await.expect("client")
}

async fn registered(server: &str, name: &str) -> Client {
    let client = Client::builder().server(server).build().await.expect("client");
    client.register(name, "correct horse battery", None).await.expect("register");
    client
}

async fn synced(client: &Client) {
    client.start_sync();
    let state = client.sync_state();
    until("sync connects", || state.get() == SyncState::Connected).await;
}

fn texts(timeline: &Timeline) -> Vec<String> {
    timeline.items().iter().filter(|i| i.send_state == SendState::Sent).map(|i| i.text.clone()).collect()
}

#[wasm_bindgen_test]
async fn a_live_message_arrives_and_a_dropped_socket_resumes_without_gaps() {
    let alice = registered(direct(), &unique("alice")).await;
    let bob = registered(server(), &unique("bob")).await;
    let chat =
        alice.create_group("Browser", Visibility::Private, &[bob.user_id().expect("bob's id")]).await.expect("group");
    synced(&alice).await;
    synced(&bob).await;
    let timeline = bob.chat(&chat.id).timeline().await.expect("bob's timeline");
    let alices = alice.chat(&chat.id).timeline().await.expect("alice's timeline");

    alices.send("hello from the page").await.expect("send");
    until("bob sees the message live", || texts(&timeline) == ["hello from the page"]).await;

    // Bob's connections drop and stay out while alice writes on.
    proxy("hold").await;
    proxy("cut").await;
    let state = bob.sync_state();
    until("bob's client sees its socket go", || state.get() != SyncState::Connected).await;
    for text in ["one", "two", "three"] {
        alices.send(text).await.expect("send");
    }
    until("alice's sends are stored", || texts(&alices).len() == 4).await;
    sleep(300).await;
    assert_eq!(texts(&timeline), ["hello from the page"], "nothing reaches bob while he is away");

    // Back: his client reconnects by itself and fills the gap, in order, once each.
    proxy("release").await;
    until("bob is connected again", || state.get() == SyncState::Connected).await;
    until("bob's timeline has everything", || texts(&timeline).len() == 4).await;
    assert_eq!(texts(&timeline), ["hello from the page", "one", "two", "three"]);
    alice.dispose();
    bob.dispose();
}

#[wasm_bindgen_test]
async fn the_session_survives_in_local_storage_until_logout() {
    let slot = unique("slot");
    let name = unique("carol");
    let first = in_slot(&slot).await;
    first.register(&name, "correct horse battery", None).await.expect("register");
    let carol = first.user_id().expect("logged in");

    // A reload: a new client on the same slot opens logged in, and its token works.
    let again = in_slot(&slot).await;
    assert_eq!(again.user_id(), Some(carol));
    assert_eq!(again.profile().await.expect("the saved token works").username, name);
    // Another slot is another account's.
    let other = in_slot("other").await;
    assert_eq!(other.user_id(), None);

    again.logout().await.expect("logout");
    let after = in_slot(&slot).await;
    assert_eq!(after.user_id(), None, "logout cleared the saved session");
}

#[wasm_bindgen_test]
async fn a_live_tabs_queue_is_left_alone_and_a_closed_tabs_queue_is_taken_over_and_sent() {
    let alice = registered(direct(), &unique("alice")).await;
    synced(&alice).await;
    let dave = registered(direct(), &unique("dave")).await;
    let chat = alice.create_group("Queues", Visibility::Private, &[dave.user_id().expect("id")]).await.expect("group");
    let queued = |text: &str, at: i64| QueuedSend {
        chat_id: chat.id.clone(),
        client_id: unique("cid"),
        text: text.to_owned(),
        reply_to: None,
        created_at: chatter_sdk::Timestamp::from_micros(at),
        sender_id: dave.user_id(),
    };
    let name = unique("queue");

    // A live tab (its lock held) keeps its queue: another store does not take it.
    let live = BrowserSendQueueStore::new(&name);
    assert!(live.load().await.expect("load").is_empty());
    live.save(&[queued("from the live tab", 1)]).await.expect("save");
    let other = BrowserSendQueueStore::new(&name);
    assert!(other.load().await.expect("load").is_empty(), "a live tab's queue is not taken");
    assert_eq!(live.load().await.expect("load")[0].text, "from the live tab");

    // A closed tab's queue (no lock holds its key) is taken over by the next client.
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let orphan_key = format!("chatter.send_queue.{name}.00000000dead");
    let orphan = vec![queued("written offline", 2), queued("and then closed", 3)];
    storage.set_item(&orphan_key, &serde_json::to_string(&orphan).unwrap()).unwrap();
    let next = Client::builder()
        .server(server())
        .send_queue_store(BrowserSendQueueStore::new(&name))
        .build()
        .await
        .expect("client");
    let texts_queued: Vec<String> = next.queued_sends().into_iter().map(|q| q.text).collect();
    assert_eq!(texts_queued, ["written offline", "and then closed"]);
    assert_eq!(storage.get_item(&orphan_key).unwrap(), None, "the closed tab's key is gone");

    // Dave's session in this client sends them, in order.
    next.restore(dave.session().expect("session")).await.expect("restore");
    synced(&next).await;
    let alices = alice.chat(&chat.id).timeline().await.expect("timeline");
    until("alice gets the taken-over messages", || texts(&alices).len() == 2).await;
    assert_eq!(texts(&alices), ["written offline", "and then closed"]);
    until("the queue is empty once sent", || next.queued_sends().is_empty()).await;
    next.dispose();
}
