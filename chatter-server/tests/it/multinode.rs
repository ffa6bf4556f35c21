//! Two server processes on one Postgres and Redis (the Postgres pass of the suite only):
//! seqs stay gap-free across nodes, and any node serves any user with no per-node
//! session cache; a revocation closes the session's sockets on every node; login attempts
//! are limited over all nodes together; a call participant whose socket is on another
//! node leaves when that session's socket goes, not when its user's last one does.

use crate::harness::{seqs, two_nodes, two_nodes_with};
use crate::ws_client::Ws;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_senders_spread_over_two_nodes_get_seqs_without_gap_or_duplicate() {
    let Some((one, two, _dir)) = two_nodes().await else { return };
    let owner = one.register("owner").await;
    let chat = one.group(&owner, "Busy", "public").await;
    let mut senders = Vec::new();
    for n in 0..20 {
        let node = if n % 2 == 0 { &one } else { &two };
        let user = node.register(&format!("sender{n}")).await;
        node.post(&format!("/v1/chats/{chat}/join")).by(&user).send().await.expect(200);
        senders.push((n, user));
    }
    let sends = senders.iter().map(|(n, user)| {
        let node = if n % 2 == 0 { &one } else { &two };
        let chat = chat.clone();
        async move {
            for i in 0..10 {
                let body = json!({"text": format!("{n}-{i}"), "client_id": format!("{n}-{i}")});
                node.post(&format!("/v1/chats/{chat}/messages")).by(user).json(body).send().await.expect(201);
            }
        }
    });
    futures::future::join_all(sends).await;
    let mut all = Vec::new();
    let mut before = None::<u64>;
    loop {
        let path = match before {
            None => format!("/v1/chats/{chat}/messages?limit=100"),
            Some(b) => format!("/v1/chats/{chat}/messages?limit=100&before_seq={b}"),
        };
        let page = two.get(&path).by(&owner).send().await.expect(200);
        let mut got = seqs(&page);
        if got.is_empty() {
            break;
        }
        before = got.first().copied();
        got.extend(all);
        all = got;
    }
    assert_eq!(all, (1..=200).collect::<Vec<u64>>(), "one seq per message, across both nodes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_on_one_node_stops_working_and_closes_its_sockets_on_the_other_at_once() {
    let Some((one, two, _dir)) = two_nodes().await else { return };
    let alice = one.register("alice").await;
    let phone = two.login("alice").await;
    two.get("/v1/users/me").by(&phone).send().await.expect(200);
    let phone_session = one.other_session(&alice).await;
    let mut phone_socket = Ws::connect(&two, &phone).await;
    one.delete(&format!("/v1/sessions/{phone_session}")).by(&alice).send().await.expect(204);
    assert_eq!(
        phone_socket.closed_with(Duration::from_secs(2)).await,
        Some(4001),
        "its socket on the other node closes"
    );
    two.get("/v1/users/me").by(&phone).send().await.expect_error(401, "unauthenticated");
    one.get("/v1/users/me").by(&phone).send().await.expect_error(401, "unauthenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_count_over_every_node() {
    let Some((one, two, _dir)) = two_nodes().await else { return };
    one.register("alice").await;
    one.register("bob").await;
    // Five wrong passwords on each node: ten for the username, the limit.
    for n in 0..10 {
        let node = if n % 2 == 0 { &one } else { &two };
        let body = json!({"username": "alice", "password": "wrong password"});
        node.post("/v1/sessions").json(body).send().await.expect_error(401, "unauthenticated");
    }
    for node in [&one, &two] {
        let body = json!({"username": "alice", "password": "password-alice"});
        let locked = node.post("/v1/sessions").json(body).send().await;
        assert!(locked.headers.get("retry-after").is_some());
        locked.expect_error(429, "rate_limited");
    }
    let body = json!({"username": "bob", "password": "password-bob"});
    two.post("/v1/sessions").json(body).send().await.expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_on_two_nodes_cannot_pass_the_limit_together() {
    let Some((one, two, _dir)) = two_nodes().await else { return };
    one.register("alice").await;
    let guesses = (0..24).map(|n| {
        let node = if n % 2 == 0 { &one } else { &two };
        let body = json!({"username": "alice", "password": format!("guess {n}")});
        async move { node.post("/v1/sessions").json(body).send().await.status }
    });
    let statuses = futures::future::join_all(guesses).await;
    let tried = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(tried + limited, 24, "{statuses:?}");
    assert_eq!(tried, 10, "exactly the limit was tried, over both nodes: {statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_participant_leaves_when_its_sessions_socket_on_the_other_node_goes_though_its_user_keeps_one() {
    // Node two answers node one's question each second (a third of the node TTL).
    let flags = ["--call-socket-grace-secs", "1", "--node-ttl-secs", "3"];
    let Some((one, two, _dir)) = two_nodes_with(&flags).await else { return };
    let laptop = one.register("alice").await;
    let phone = two.login("alice").await;
    let chat = one.group(&laptop, "Call", "private").await;
    let laptop_socket = Ws::connect(&two, &laptop).await;
    let mut phone_socket = Ws::connect(&two, &phone).await;
    // The call lives on node one; both sessions' sockets are on node two.
    let call = format!("/v1/chats/{chat}/call");
    let laptop_pid = one.post(&call).by(&laptop).send().await.expect(200)["participant_id"].clone();
    let phone_pid = one.post(&call).by(&phone).send().await.expect(200)["participant_id"].clone();

    // Several rounds and graces pass: node two names both sessions, so both stay.
    let quiet_until = tokio::time::Instant::now() + Duration::from_secs(4);
    while let Some(frame) =
        phone_socket.next_within(quiet_until.saturating_duration_since(tokio::time::Instant::now())).await
    {
        assert_ne!(frame["type"], "call.participant_left", "nobody leaves while their sockets are open: {frame}");
    }

    // The laptop's socket goes; Alice still has the phone's on the same node.
    drop(laptop_socket);
    let dropped = tokio::time::Instant::now();
    let left = phone_socket.next_of("call.participant_left").await;
    let waited = dropped.elapsed();
    assert_eq!((&left["participant_id"], left["reason"].as_str()), (&laptop_pid, Some("disconnected")));
    assert!(waited >= Duration::from_millis(900), "not before the grace: {waited:?}");
    let info = one.get(&call).by(&phone).send().await.expect(200);
    let still: Vec<&serde_json::Value> =
        info["participants"].as_array().unwrap().iter().map(|p| &p["participant_id"]).collect();
    assert_eq!(still, [&phone_pid]);
}
