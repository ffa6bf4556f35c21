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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_nodes_deliver_their_own_and_catch_up_when_it_returns() {
    if !postgres::enabled() {
        return;
    }
    let Some(database_url) = postgres::fresh_database().await else { return };
    let redis = OwnRedis::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut nodes = Vec::new();
    for n in ["1", "2"] {
        let mut config = test_config(&dir.path().join(n));
        config.database_url = Some(database_url.clone());
        config.redis_url = Some(redis.url());
        nodes.push(Server::start_with(config).await);
    }
    let (one, two) = (&nodes[0], &nodes[1]);
    let alice = one.register("alice").await;
    let carol = one.register("carol").await;
    let bob = two.register("bob").await;
    let chat = one.group(&alice, "Team", "private").await;
    one.add(&chat, &alice, &carol).await;
    one.add(&chat, &alice, &bob).await;
    let mut a = Ws::connect(one, &alice).await;
    let mut c = Ws::connect(one, &carol).await;
    let mut b = Ws::connect(two, &bob).await;
    let (mut at_a, mut at_b, mut at_c) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    one.say(&chat, &alice, "all there").await;
    collect(&mut b, &mut at_b, 1, Duration::from_secs(5)).await;
    assert_eq!(at_b.len(), 1, "cross-node delivery works before the fault");

    redis.stop();
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
    collect(&mut c, &mut at_c, 9, Duration::from_secs(10)).await;
    println!("caught up {:?} after Redis came back", back.elapsed());
    one.say(&chat, &alice, "after").await;
    two.say(&chat, &bob, "after too").await;
    for (name, ws, seen) in [("alice", &mut a, &mut at_a), ("bob", &mut b, &mut at_b), ("carol", &mut c, &mut at_c)] {
        collect(ws, seen, 11, Duration::from_secs(5)).await;
        ws.expect_silence_but(&["presence", "typing", "read"], Duration::from_millis(300)).await;
        let expected: BTreeMap<u64, u32> = (1..=11).map(|s| (s, 1)).collect();
        assert_eq!(*seen, expected, "{name} holds every message once");
    }
}
