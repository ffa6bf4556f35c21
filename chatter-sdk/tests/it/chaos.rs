//! The sync service under dropped connections, and the offline queue across restarts.

use crate::harness::{CountingConnector, CountingTransport, Lcg, Proxy, Server, builder, password, user, wait_until};
use chatter_sdk::model::Visibility;
use chatter_sdk::send_queue::FileSendQueueStore;
use chatter_sdk::session::FileSessionStore;
use chatter_sdk::{Client, MessageId, SyncState, TimelineItem};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the server holds: every message of the chat, read page by page by a fresh client.
async fn server_view(url: &str, name: &str, chat: &chatter_sdk::ChatId) -> Vec<TimelineItem> {
    let client = builder(url).build().await.expect("client");
    client.login(name, &password(name)).await.expect("login");
    let timeline = client.chat(chat).timeline().await.expect("timeline");
    while !timeline.paginate_backwards(100).await.expect("page") {}
    timeline.items().into_iter().collect()
}

/// Runs a REST call until it gets through the connection cuts (every call used here is
/// idempotent).
async fn retry<T, F: std::future::Future<Output = chatter_sdk::Result<T>>>(mut call: impl FnMut() -> F) -> T {
    for _ in 0..50 {
        match call().await {
            Ok(value) => return value,
            Err(chatter_sdk::SdkError::Network(_)) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => panic!("call failed: {e}"),
        }
    }
    panic!("call never got through");
}

/// Waits until `timeline` shows what the server holds; on a timeout, says where they differ.
async fn converges(who: &str, timeline: &chatter_sdk::Timeline, truth: &[TimelineItem]) {
    let want = essence(truth);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let have = essence(&timeline.items().into_iter().collect::<Vec<_>>());
        if have == want {
            return;
        }
        if std::time::Instant::now() > deadline {
            let first = have.iter().zip(&want).position(|(a, b)| a != b);
            panic!("{who}'s timeline: {} items, the server {}; first difference at {first:?}", have.len(), want.len());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn essence(items: &[TimelineItem]) -> Vec<(Option<u64>, String, bool, bool)> {
    items.iter().map(|i| (i.seq, i.text.clone(), i.edited_at.is_some(), i.deleted)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelines_end_equal_to_the_server_when_connections_drop_at_random() {
    let server = Server::start().await;
    let proxy = Proxy::start(server.addr).await;
    // Everyone goes through the proxy: every client's connections drop.
    let senders =
        [user(&proxy.url(), "alice").await, user(&proxy.url(), "bob").await, user(&proxy.url(), "carol").await];
    let requests = CountingTransport::default();
    let request_log = requests.requests.clone();
    let connector = CountingConnector::default();
    let sockets = connector.opened.clone();
    let dave =
        builder(&proxy.url()).http_transport(requests).websocket_connector(connector).build().await.expect("client");
    dave.register("dave", &password("dave"), None).await.expect("register");
    let members: Vec<_> = senders[1..].iter().chain([&dave]).map(|c| c.user_id().expect("id")).collect();
    let chat = senders[0].create_group("Chaos", Visibility::Private, &members).await.expect("create");
    dave.start_sync();
    wait_until("dave knows the chat", Duration::from_secs(10), || !dave.chat_list().items().is_empty()).await;
    let observed = dave.chat(&chat.id).timeline().await.expect("timeline");
    for s in &senders {
        s.start_sync();
    }

    // Cut every connection through the proxy at random moments while the others write.
    let chaos_on = Arc::new(AtomicBool::new(true));
    let chaos = tokio::spawn({
        let on = chaos_on.clone();
        async move {
            let mut rng = Lcg(7);
            let mut cuts = 0;
            while on.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(40 + rng.next(160))).await;
                proxy.cut();
                cuts += 1;
            }
            (proxy, cuts)
        }
    });
    let mut writers = Vec::new();
    for (n, sender) in senders.iter().enumerate() {
        let (sender, chat) = (sender.clone(), sender.chat(&chat.id));
        writers.push(tokio::spawn(async move {
            let timeline = retry(|| chat.timeline()).await;
            let mut rng = Lcg(n as u64 + 1);
            for i in 0..100 {
                timeline.send(format!("{n}-{i}")).await.expect("send");
                tokio::time::sleep(Duration::from_millis(5 + rng.next(20))).await;
            }
            wait_until("the sends are stored", Duration::from_secs(60), || sender.queued_sends().is_empty()).await;
            // Edit every 7th and delete every 11th of its own messages.
            let mine: Vec<(u64, MessageId)> = timeline
                .items()
                .iter()
                .filter(|i| Some(&i.sender_id) == sender.user_id().as_ref())
                .filter_map(|i| Some((i.seq?, i.id.clone()?)))
                .collect();
            for (k, (_, id)) in mine.iter().enumerate() {
                if k % 7 == 0 {
                    retry(|| timeline.edit(id, format!("{n}-edited-{k}"))).await;
                }
                if k % 11 == 0 {
                    retry(|| timeline.delete(id)).await;
                }
            }
            timeline
        }));
    }
    let mut sender_timelines = Vec::new();
    for w in writers {
        sender_timelines.push(w.await.expect("writer"));
    }
    chaos_on.store(false, Ordering::SeqCst);
    let (_proxy, cuts) = chaos.await.expect("chaos");
    assert!(cuts >= 8, "the connections were cut ({cuts} times)");

    let truth = server_view(&server.url(), "alice", &chat.id).await;
    assert_eq!(truth.iter().filter_map(|i| i.seq).collect::<Vec<_>>(), (1..=300).collect::<Vec<_>>());
    let mut state = dave.sync_state();
    converges("dave", &observed, &truth).await;
    wait_until("dave is connected", Duration::from_secs(30), || state.next_now() == SyncState::Connected).await;
    for (n, timeline) in sender_timelines.iter().enumerate() {
        while !retry(|| timeline.paginate_backwards(100)).await {}
        converges(&format!("sender {n}"), timeline, &truth).await;
    }

    // Missing events came by resume over the socket: over HTTP, one chat-list read per
    // connection and the one page the timeline opened with, no re-fetch.
    let log = request_log.lock().expect("lock").clone();
    let listings = log.iter().filter(|r| r.starts_with("Get /v1/chats?")).count() as u64;
    let pages = log.iter().filter(|r| r.contains("/messages")).count();
    let connections = sockets.load(Ordering::SeqCst);
    eprintln!("{cuts} cuts, {connections} sockets, {listings} chat-list reads, {} requests in all", log.len());
    assert!(connections >= 3, "dave reconnected ({connections} sockets)");
    assert!(listings <= connections, "{listings} chat-list reads for {connections} connections: {log:#?}");
    assert_eq!(pages, 1, "only the timeline's first page was read: {log:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_queued_offline_survive_a_restart_of_the_app_and_arrive_once_in_order() {
    let server = Server::start().await;
    let url = server.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let open = |url: String| {
        let session = FileSessionStore::new(dir.path().join("session.json"));
        let queue = FileSendQueueStore::new(dir.path().join("queue.json"));
        async move { builder(&url).session_store(session).send_queue_store(queue).build().await.expect("client") }
    };
    let app: Client = open(url.clone()).await;
    app.register("alice", &password("alice"), None).await.expect("register");
    let chat = app.create_group("Notes", Visibility::Private, &[]).await.expect("create");
    app.start_sync();
    let timeline = app.chat(&chat.id).timeline().await.expect("timeline");

    let (data, addr) = server.stop().await;
    for i in 1..=20 {
        timeline.send(format!("offline {i}")).await.expect("queued");
    }
    assert_eq!(timeline.items().len(), 20, "every send shows as an echo");
    assert_eq!(app.queued_sends().len(), 20);
    drop(timeline);
    drop(app);

    let reopened = open(url.clone()).await;
    assert!(reopened.user_id().is_some(), "still logged in");
    assert_eq!(reopened.queued_sends().len(), 20, "the queue was persisted");
    reopened.start_sync();
    let server = Server::start_in(data, Some(addr)).await;
    wait_until("the queue drains", Duration::from_secs(60), || reopened.queued_sends().is_empty()).await;

    let stored = server_view(&server.url(), "alice", &chat.id).await;
    let texts: Vec<String> = stored.iter().map(|i| i.text.clone()).collect();
    let expected: Vec<String> = (1..=20).map(|i| format!("offline {i}")).collect();
    assert_eq!(texts, expected, "all 20, once each, in order");
}
