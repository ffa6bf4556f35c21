//! Two nodes behind nginx with the proxy rules of `deploy/nginx/` (the Postgres pass of
//! the suite only): REST and WebSockets are balanced over both nodes, and users who
//! land on different nodes hear each other; seqs stay gap-free.

use crate::harness::nginx::Nginx;
use crate::harness::{Server, TestUser, seqs, two_nodes};
use crate::multinode_realtime::{Pair, hear_each_other};
use crate::ws_client::{Ws, ws_url};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Opens a socket for `user` through the front; answers it and the node it reached.
async fn socket(front: &Server, user: &TestUser) -> (Ws, String) {
    let mut request = ws_url(front).into_client_request().expect("request");
    request.headers_mut().insert("authorization", format!("Bearer {}", user.token).parse().expect("header"));
    let (socket, response) = tokio_tungstenite::connect_async(request).await.expect("socket through nginx");
    let node = response.headers()["x-chatter-node"].to_str().expect("node header").to_owned();
    let mut ws = Ws { socket };
    ws.next_of("ready").await;
    ws.send(json!({"type": "resume", "chats": {}})).await;
    ws.next_of("resumed").await;
    (ws, node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_users_on_different_nodes_hear_each_other_over_http_and_websocket() {
    let Some((one, two, _dir)) = two_nodes().await else { return };
    let nginx = Nginx::start(&[&one, &two]).await;
    let front = nginx.front();
    let alice = front.register("alice").await;
    let bob = front.register("bob").await;
    let carol = front.register("carol").await;
    let chat = front.direct(&alice, &bob).await;
    let (mut a, a_node) = socket(&front, &alice).await;
    let (mut c, _) = socket(&front, &carol).await;
    // Round-robin puts Bob's socket on the other node within a few tries.
    let mut tries = 0;
    let b = loop {
        let (b, b_node) = socket(&front, &bob).await;
        if b_node != a_node {
            break b;
        }
        drop(b);
        tries += 1;
        assert!(tries < 10, "nginx never balanced a socket to the other node");
    };
    // Bob's earlier sockets on Alice's node came and went: wait until the last presence
    // Alice heard says online and nothing follows for a while.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut bob_online = false;
    loop {
        match a.next_within(Duration::from_millis(300)).await {
            Some(p) if p["type"] == "presence" && p["user_id"] == bob.id.as_str() => {
                bob_online = p["online"] == true;
            }
            Some(_) => {}
            None if bob_online => break,
            None => {}
        }
        assert!(tokio::time::Instant::now() < deadline, "bob never settled online");
    }

    hear_each_other(Pair { ws: a, user: &alice }, Pair { ws: b, user: &bob }, &front, &chat).await;
    c.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_twenty_senders_get_seqs_without_gap_and_both_nodes_serve() {
    let Some((one, two, _dir)) = two_nodes().await else { return };
    let nginx = Nginx::start(&[&one, &two]).await;
    let front = nginx.front();
    let owner = front.register("owner").await;
    let chat = front.group(&owner, "Busy", "public").await;
    let mut senders = Vec::new();
    for n in 0..20 {
        let user = front.register(&format!("sender{n}")).await;
        front.post(&format!("/v1/chats/{chat}/join")).by(&user).send().await.expect(200);
        senders.push((n, user));
    }
    let sends = senders.iter().map(|(n, user)| {
        let (front, chat) = (&front, chat.clone());
        async move {
            let mut nodes = HashSet::new();
            for i in 0..10 {
                let body = json!({"text": format!("{n}-{i}"), "client_id": format!("{n}-{i}")});
                let r = front.post(&format!("/v1/chats/{chat}/messages")).by(user).json(body).send().await;
                nodes.insert(r.headers["x-chatter-node"].to_str().expect("node").to_owned());
                r.expect(201);
            }
            nodes
        }
    });
    let nodes: HashSet<String> = futures::future::join_all(sends).await.into_iter().flatten().collect();
    assert_eq!(nodes.len(), 2, "sends reached both nodes: {nodes:?}");
    let mut all = Vec::new();
    let mut before = None::<u64>;
    loop {
        let path = match before {
            None => format!("/v1/chats/{chat}/messages?limit=100"),
            Some(b) => format!("/v1/chats/{chat}/messages?limit=100&before_seq={b}"),
        };
        let mut got = seqs(&front.get(&path).by(&owner).send().await.expect(200));
        if got.is_empty() {
            break;
        }
        before = got.first().copied();
        got.extend(all);
        all = got;
    }
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
}
