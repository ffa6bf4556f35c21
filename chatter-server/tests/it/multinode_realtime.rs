//! Server processes sharing Postgres and Redis (the Postgres pass of the suite only): users on
//! different nodes hear each other's messages, typing and presence; a client resumes
//! on another node gap-free; a node killed with SIGKILL has its users go offline
//! elsewhere within the stated bound.

use crate::harness::{Server, TestUser, postgres, redis, two_nodes};
use crate::ws_client::Ws;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Reads frames until `resumed`, answering the chat events in between.
async fn until_resumed(ws: &mut Ws) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let frame = ws.next().await;
        match frame["type"].as_str().expect("type") {
            "resumed" => return events,
            "presence" | "typing" | "read" => {}
            _ => events.push(frame),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_different_nodes_hear_messages_typing_and_presence_both_ways() {
    let Some((one, two, _dir)) = two_nodes().await else { return };
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    let carol = two.register("carol").await;
    let chat = one.direct(&alice, &bob).await;
    let mut a = Ws::connect(&one, &alice).await;
    let mut c = Ws::connect(&two, &carol).await;
    let b = Ws::connect(&two, &bob).await;

    let online = a.next_of("presence").await;
    assert_eq!((online["user_id"].as_str(), online["online"].as_bool()), (Some(bob.id.as_str()), Some(true)));

    hear_each_other(Pair { ws: a, user: &alice }, Pair { ws: b, user: &bob }, &two, &chat).await;
    // Carol, in no chat with anyone, heard nothing.
    c.expect_silence(Duration::from_millis(300)).await;
}

/// A user's socket.
pub struct Pair<'a> {
    pub ws: Ws,
    pub user: &'a TestUser,
}

/// Alice and Bob, in direct `chat` and connected (to different nodes), hear each other:
/// Alice's WS send, Bob's REST send through `bob_node`, typing both ways, and Bob's
/// going offline when his socket drops.
pub async fn hear_each_other(alice: Pair<'_>, bob: Pair<'_>, bob_node: &Server, chat: &str) {
    let (mut a, mut b) = (alice.ws, bob.ws);
    a.send(json!({"type": "send", "ref": "r1", "chat_id": chat, "text": "hi bob", "client_id": "k1"})).await;
    let got = b.next_of("message.created").await;
    assert_eq!(got["message"]["text"], "hi bob");
    assert!(got.get("ref").is_none(), "the ref is for the sender's own socket only");

    bob_node.say(chat, bob.user, "hi alice").await;
    let mut got = a.next_of("message.created").await;
    if got["message"]["text"] == "hi bob" {
        got = a.next_of("message.created").await;
    }
    assert_eq!(got["message"]["text"], "hi alice");

    b.send(json!({"type": "typing", "chat_id": chat})).await;
    assert_eq!(a.next_of("typing").await["user_id"], bob.user.id.as_str());
    a.send(json!({"type": "typing", "chat_id": chat})).await;
    assert_eq!(b.next_of("typing").await["user_id"], alice.user.id.as_str());

    drop(b);
    let offline = a.next_of("presence").await;
    assert_eq!((offline["user_id"].as_str(), offline["online"].as_bool()), (Some(bob.user.id.as_str()), Some(false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_cut_off_node_one_resumes_on_node_two_with_exactly_the_missing_events() {
    let Some((one, two, _dir)) = two_nodes().await else { return };
    let alice = one.register("alice").await;
    let bob = one.register("bob").await;
    let carol = two.register("carol").await;
    let chat = one.group(&alice, "Team", "private").await;
    one.add(&chat, &alice, &bob).await;
    let mut b = Ws::connect(&one, &bob).await;
    let mut first = None;
    for n in 0..3 {
        let message = two.say(&chat, &alice, &format!("before {n}")).await;
        first.get_or_insert(message["id"].as_str().expect("id").to_owned());
    }
    let mut seen = 0;
    for _ in 0..3 {
        seen = b.next_of("message.created").await["event_seq"].as_u64().expect("event_seq");
    }
    drop(b);
    // While Bob is away, both nodes change the chat.
    for n in 0..4 {
        let node = if n % 2 == 0 { &one } else { &two };
        node.say(&chat, &alice, &format!("away {n}")).await;
    }
    let first = first.expect("a first message");
    one.patch(&format!("/v1/chats/{chat}/messages/{first}"))
        .by(&alice)
        .json(json!({"text": "edited"}))
        .send()
        .await
        .expect(200);
    two.add(&chat, &alice, &carol).await;

    let mut b = Ws::connect_quietly(&two, &bob).await;
    b.next_of("ready").await;
    b.send(json!({"type": "resume", "chats": {chat.clone(): seen}})).await;
    let events = until_resumed(&mut b).await;
    let seqs: Vec<u64> = events.iter().map(|e| e["event_seq"].as_u64().expect("event_seq")).collect();
    assert_eq!(seqs, (seen + 1..=seen + 6).collect::<Vec<_>>(), "exactly the missing events, in order: {events:?}");
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(kinds[..4], ["message.created"; 4]);
    assert_eq!(kinds[4..], ["message.edited", "chat.member_joined"]);
    one.say(&chat, &alice, "live").await;
    let live = b.next_of("message.created").await;
    assert_eq!((live["event_seq"].as_u64(), live["message"]["text"].as_str()), (Some(seen + 7), Some("live")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_with_sigkill_has_its_users_offline_elsewhere_within_the_bound_and_they_resume_on_another() {
    let Some(redis_url) = redis::url() else { return };
    let Some(database_url) = postgres::fresh_database().await else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    // The stated bound: a node counts as dead `--node-ttl-secs` after its last heartbeat
    // and the survivors check every fifth of that, so its users go offline within 1.2 ttl.
    let ttl_secs = 2;
    let namespace = redis::namespace(&database_url);
    let args = [
        "--database-url",
        &database_url,
        "--redis-url",
        &redis_url,
        "--redis-namespace",
        &namespace,
        "--node-ttl-secs",
        "2",
    ];
    let mut one = Server::start_process(&dir.path().join("1"), &args).await;
    let two = Server::start_process(&dir.path().join("2"), &args).await;
    let alice = two.register("alice").await;
    let bob = one.register("bob").await;
    let chat = two.direct(&alice, &bob).await;
    let mut a = Ws::connect(&two, &alice).await;
    let mut b = Ws::connect(&one, &bob).await;
    assert_eq!(a.next_of("presence").await["online"], true);
    two.say(&chat, &alice, "before").await;
    let seen = b.next_of("message.created").await["event_seq"].as_u64().expect("event_seq");

    one.kill();
    let killed = Instant::now();
    let offline = a.next_of("presence").await;
    let took = killed.elapsed();
    assert_eq!((offline["user_id"].as_str(), offline["online"].as_bool()), (Some(bob.id.as_str()), Some(false)));
    let bound = Duration::from_millis(ttl_secs * 1200 + 1000);
    assert!(took < bound, "offline after {took:?}, bound {bound:?}");
    assert!(b.closed_with(Duration::from_secs(5)).await.is_none(), "the killed node's socket just drops");

    two.say(&chat, &alice, "while bob moves").await;
    let mut b = Ws::connect_quietly(&two, &bob).await;
    b.next_of("ready").await;
    b.send(json!({"type": "resume", "chats": {chat.clone(): seen}})).await;
    let events = until_resumed(&mut b).await;
    assert_eq!(events.len(), 1, "exactly the one missed event: {events:?}");
    assert_eq!(events[0]["message"]["text"], "while bob moves");
    let back = a.next_of("presence").await;
    assert_eq!((back["user_id"].as_str(), back["online"].as_bool()), (Some(bob.id.as_str()), Some(true)));
    println!("offline elsewhere {took:?} after SIGKILL (node ttl {ttl_secs} s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_gracefully_has_its_users_offline_elsewhere_at_once() {
    let Some((mut one, two, _dir)) = two_nodes().await else { return };
    let alice = two.register("alice").await;
    let bob = one.register("bob").await;
    two.direct(&alice, &bob).await;
    let mut a = Ws::connect(&two, &alice).await;
    let mut b = Ws::connect(&one, &bob).await;
    assert_eq!(a.next_of("presence").await["online"], true);
    // Bob's app answers the node's close, as clients do.
    let bob_app = tokio::spawn(async move { b.closed_with(Duration::from_secs(10)).await });
    let stopping = Instant::now();
    // SIGTERM: the node closes its sockets (1001) and leaves Redis on its way out, long
    // before the 10 s after which the others would find it dead.
    tokio::task::block_in_place(|| one.terminate());
    let offline = a.next_of("presence").await;
    assert_eq!((offline["user_id"].as_str(), offline["online"].as_bool()), (Some(bob.id.as_str()), Some(false)));
    assert!(stopping.elapsed() < Duration::from_secs(5), "offline after {:?}", stopping.elapsed());
    assert_eq!(bob_app.await.expect("bob's app"), Some(1001), "going away: reconnect elsewhere");
}
