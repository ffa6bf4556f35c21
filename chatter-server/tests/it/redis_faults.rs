//! Redis going away and coming back (the Postgres pass of the suite only): delivery
//! within a node goes on, cross-node delivery resumes by itself, every socket fills
//! what it missed from the store, and in the end holds every message once.

use crate::harness::{Server, postgres, redis::OwnRedis, test_config};
use crate::ws_client::Ws;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Reads message events until `want` distinct seqs arrived (or `wait` passed); answers
/// how often each seq came.
async fn collect(ws: &mut Ws, seqs: &mut BTreeMap<u64, u32>, want: usize, wait: Duration) {
    let deadline = tokio::time::Instant::now() + wait;
    while seqs.len() < want {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(frame) = ws.next_within(left).await else { return };
        if frame["type"] == "message.created" {
            *seqs.entry(frame["message"]["seq"].as_u64().expect("seq")).or_default() += 1;
        }
    }
}

/// What a test of Redis faults runs on: a fresh database, a Redis of its own, and the
/// configuration of a node on both (the Postgres pass only).
struct Rig {
    database_url: String,
    redis: OwnRedis,
    dir: tempfile::TempDir,
}

impl Rig {
    async fn new() -> Option<Self> {
        let database_url = postgres::fresh_database().await?;
        Some(Self { database_url, redis: OwnRedis::start(), dir: tempfile::tempdir().expect("temp dir") })
    }

    fn config(&self, node: &str) -> chatter_server::ServerConfig {
        let mut config = test_config(&self.dir.path().join(node));
        config.store.database_url = Some(self.database_url.clone());
        config.cluster.redis_url = Some(self.redis.url());
        config
    }

    /// Two in-process nodes, each with `tune` applied to its configuration.
    async fn two_nodes(&self, tune: impl Fn(&mut chatter_server::ServerConfig)) -> [Server; 2] {
        let (mut c1, mut c2) = (self.config("1"), self.config("2"));
        tune(&mut c1);
        tune(&mut c2);
        [Server::start_with(c1).await, Server::start_with(c2).await]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_nodes_deliver_their_own_and_catch_up_when_it_returns() {
    let Some(rig) = Rig::new().await else { return };
    let redis = &rig.redis;
    let [one, two] = &rig.two_nodes(|_| {}).await;
    let alice = one.register("alice").await;
    let carol = one.register("carol").await;
    let bob = two.register("bob").await;
    let bob_phone = two.login("bob").await;
    let dave = two.register("dave").await;
    let chat = one.group(&alice, "Team", "private").await;
    one.add(&chat, &alice, &carol).await;
    one.add(&chat, &alice, &bob).await;
    one.add(&chat, &alice, &dave).await;
    let mut a = Ws::connect(one, &alice).await;
    let mut c = Ws::connect(one, &carol).await;
    let mut b = Ws::connect(two, &bob).await;
    let mut phone = Ws::connect(two, &bob_phone).await;
    let mut d = Ws::connect(two, &dave).await;
    let (mut at_a, mut at_b, mut at_c) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    one.say(&chat, &alice, "all there").await;
    collect(&mut b, &mut at_b, 1, Duration::from_secs(5)).await;
    assert_eq!(at_b.len(), 1, "cross-node delivery works before the fault");

    redis.stop();
    // Changes other nodes must learn of even though their broadcasts are lost: Dave is
    // removed from the chat, Bob's phone session is revoked (both through node one).
    one.delete(&format!("/v1/chats/{chat}/members/{}", dave.id)).by(&alice).send().await.expect(204);
    let phone_session = one.other_session(&bob).await;
    one.delete(&format!("/v1/sessions/{phone_session}")).by(&bob).send().await.expect(204);
    for n in 0..5 {
        one.say(&chat, &alice, &format!("redis down {n}")).await;
    }
    let started = Instant::now();
    collect(&mut c, &mut at_c, 6, Duration::from_secs(1)).await;
    assert_eq!(at_c.len(), 6, "Carol, on Alice's node, got everything within 1 s: {at_c:?}");
    println!("within the node while Redis was down: {:?}", started.elapsed());
    collect(&mut b, &mut at_b, 6, Duration::from_millis(500)).await;
    assert_eq!(at_b.len(), 1, "Bob, on the other node, heard none of them: Redis is down ({at_b:?})");
    for n in 0..3 {
        two.say(&chat, &bob, &format!("bob while down {n}")).await;
    }
    // Bob's node reads the events before his own from the store when it sees the gap.
    collect(&mut b, &mut at_b, 9, Duration::from_secs(1)).await;
    assert_eq!(at_b.len(), 9, "Bob's own node filled the gap before his messages: {at_b:?}");
    collect(&mut a, &mut at_a, 9, Duration::from_millis(300)).await;
    assert_eq!(at_a.len(), 6, "Alice's node has not heard of Bob's yet: {at_a:?}");

    redis.resume();
    let back = Instant::now();
    // Nobody sends anything: the nodes resubscribe and the sockets read what they
    // missed from the store.
    collect(&mut a, &mut at_a, 9, Duration::from_secs(10)).await;
    assert_eq!(phone.closed_with(Duration::from_secs(5)).await, Some(4001), "the revoked session's socket closes");
    // Dave learns he left, and sees nothing said after it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = d.next_within(left).await.expect("chat.removed reaches Dave");
        assert!(
            frame["type"] != "message.created" || frame["message"]["text"] == "all there",
            "Dave must not see messages from after his removal: {frame}"
        );
        if frame["type"] == "chat.removed" {
            assert_eq!(frame["chat_id"], chat.as_str());
            break;
        }
    }
    collect(&mut c, &mut at_c, 9, Duration::from_secs(10)).await;
    println!("caught up {:?} after Redis came back", back.elapsed());
    one.say(&chat, &alice, "after").await;
    two.say(&chat, &bob, "after too").await;
    for (name, ws, seen) in [("alice", &mut a, &mut at_a), ("bob", &mut b, &mut at_b), ("carol", &mut c, &mut at_c)] {
        collect(ws, seen, 11, Duration::from_secs(5)).await;
        ws.expect_silence_but(&["presence", "typing", "read", "chat.member_left"], Duration::from_millis(300)).await;
        let expected: BTreeMap<u64, u32> = (1..=11).map(|s| (s, 1)).collect();
        assert_eq!(*seen, expected, "{name} holds every message once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_starts_while_redis_is_down_and_joins_the_others_when_it_returns() {
    let Some(rig) = Rig::new().await else { return };
    let one = Server::start_with(rig.config("1")).await;
    rig.redis.stop();
    let two = Server::start_with(rig.config("2")).await;
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    let chat = two.direct(&bob, &alice).await;
    let mut a = Ws::connect(&one, &alice).await;
    rig.redis.resume();
    // Once both nodes follow Redis again, Bob's messages on node two reach Alice on one.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = BTreeMap::new();
    let mut n = 0;
    while seen.is_empty() {
        assert!(Instant::now() < deadline, "node two never reached node one through Redis");
        n += 1;
        two.say(&chat, &bob, &format!("hello {n}")).await;
        collect(&mut a, &mut seen, 1, Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_lost_while_subscriptions_were_down_are_recovered_from_the_store() {
    let Some(rig) = Rig::new().await else { return };
    let redis = &rig.redis;
    let [one, two] = &rig.two_nodes(|_| {}).await;
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    let bob_phone = two.login("bob").await;
    let dave = two.register("dave").await;
    let chat = one.group(&alice, "Team", "private").await;
    one.add(&chat, &alice, &bob).await;
    one.add(&chat, &alice, &dave).await;
    let mut b = Ws::connect(two, &bob).await;
    let mut phone = Ws::connect(two, &bob_phone).await;
    let mut d = Ws::connect(two, &dave).await;

    // Redis stays up (publishing works) but every subscription is cut again and again:
    // what is published meanwhile reaches no other node.
    let port = redis.port.to_string();
    let cutting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let cutter = {
        let (cutting, port) = (cutting.clone(), port.clone());
        std::thread::spawn(move || {
            while cutting.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = std::process::Command::new("redis-cli")
                    .args(["-p", &port, "CLIENT", "KILL", "TYPE", "pubsub"])
                    .output();
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    one.delete(&format!("/v1/chats/{chat}/members/{}", dave.id)).by(&alice).send().await.expect(204);
    let phone_session = one.other_session(&bob).await;
    one.delete(&format!("/v1/sessions/{phone_session}")).by(&bob).send().await.expect(204);
    for n in 0..3 {
        one.say(&chat, &alice, &format!("while cut {n}")).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    cutting.store(false, std::sync::atomic::Ordering::Relaxed);
    cutter.join().expect("cutter");

    assert_eq!(phone.closed_with(Duration::from_secs(10)).await, Some(4001), "the revoked session's socket closes");
    let mut at_b = BTreeMap::new();
    collect(&mut b, &mut at_b, 3, Duration::from_secs(10)).await;
    assert_eq!(at_b.keys().copied().collect::<Vec<_>>(), [1, 2, 3], "Bob reads the three from the store");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = d.next_within(left).await.expect("chat.removed reaches Dave");
        assert!(frame["type"] != "message.created", "Dave must not see messages from after his removal: {frame}");
        if frame["type"] == "chat.removed" {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_written_again_after_redis_restarts_empty() {
    let Some(rig) = Rig::new().await else { return };
    let redis = &rig.redis;
    let [one, two] = &rig.two_nodes(|c| c.cluster.node_ttl = std::time::Duration::from_secs(1)).await;
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    two.direct(&bob, &alice).await;
    let mut a = Ws::connect(one, &alice).await;
    let b = Ws::connect(two, &bob).await;
    assert_eq!(a.next_of("presence").await["online"], true);
    redis.stop();
    redis.resume();
    // The nodes notice at their next beats (every 200 ms here) that Redis lost them.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(b);
    // (Writing Bob's presence again may announce him online once more, which is true.)
    let offline = loop {
        let p = a.next_of("presence").await;
        if p["online"] == false {
            break p;
        }
    };
    assert_eq!(offline["user_id"], bob.id.as_str(), "Bob's going is still announced");
}
