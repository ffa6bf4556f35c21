//! A call over two nodes sharing Postgres and Redis: members connected to different
//! nodes join the same call and exchange media. The call lives on the node where it
//! started; the other node forwards its clients' requests and signalling there.

use crate::calls_support::{connected, join, receiving};
use crate::harness::{Server, user};
use chatter_sdk::model::Visibility;
use chatter_sdk::protocol::TrackKind;
use std::sync::atomic::{AtomicU64, Ordering};

/// The database and Redis of the test command, or `None` (the test is skipped) when run
/// without them; with `CHATTER_REQUIRE_SERVICES` their absence fails.
async fn services() -> Option<(String, String)> {
    let (Ok(db), Ok(redis)) = (std::env::var("CHATTER_TEST_DATABASE_URL"), std::env::var("CHATTER_TEST_REDIS_URL"))
    else {
        assert!(
            std::env::var_os("CHATTER_REQUIRE_SERVICES").is_none(),
            "CHATTER_TEST_DATABASE_URL and CHATTER_TEST_REDIS_URL are needed (make test sets them)"
        );
        return None;
    };
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let (admin, connection) = tokio_postgres::connect(&db, tokio_postgres::NoTls).await.expect("admin connection");
    tokio::spawn(connection);
    let name = format!("sdk{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
    admin.execute(&format!("CREATE DATABASE {name}"), &[]).await.expect("create database");
    let base = db.rsplit_once('/').map(|(b, _)| b).expect("a URL with a database");
    Some((format!("{base}/{name}"), redis))
}

async fn node(db: &str, redis: &str, namespace: &str) -> Server {
    let (db, redis, namespace) = (db.to_owned(), redis.to_owned(), namespace.to_owned());
    Server::start_configured(tempfile::tempdir().expect("dir"), None, move |c| {
        c.store.database_url = Some(db);
        c.cluster.redis_url = Some(redis);
        c.cluster.redis_namespace = namespace;
    })
    .await
}

#[tokio::test]
async fn members_on_two_nodes_join_one_call_and_exchange_media() {
    let Some((db, redis)) = services().await else {
        eprintln!("skipped: no Postgres and Redis");
        return;
    };
    let namespace = format!("sdk-calls-{}", std::process::id());
    let one = node(&db, &redis, &namespace).await;
    let two = node(&db, &redis, &namespace).await;
    let alice = user(&one.url(), "alice").await;
    let bob = user(&two.url(), "bob").await;
    connected(&alice).await;
    connected(&bob).await;
    let chat = alice.create_group("Two nodes", Visibility::Private, &[bob.user_id().unwrap()]).await.unwrap();

    let av = [TrackKind::Audio, TrackKind::Video];
    let a = join(&alice, &chat.id, &av).await; // on node one
    let b = join(&bob, &chat.id, &av).await; // through node two
    assert_eq!(a.call_id(), b.call_id(), "one call");
    receiving(&a, 2, "alice gets bob's audio and video").await;
    receiving(&b, 2, "bob gets alice's audio and video").await;
    // The call lives on node one: node two's SFU carries nothing.
    assert_eq!(two.state.sfu.stats().await.unwrap().peers, 0);
    assert_eq!(one.state.sfu.stats().await.unwrap().peers, 2);
    // Either node answers about the call.
    let info = bob.chat(&chat.id).running_call().await.unwrap().expect("the call");
    assert_eq!(info.participants.len(), 2);

    // Mute and leave travel between nodes too.
    b.set_muted(TrackKind::Audio, true).await.unwrap();
    crate::harness::wait_until("alice sees bob muted", crate::calls_support::LIMIT, || {
        a.participants().iter().any(|p| &p.participant_id == b.participant_id() && p.tracks.iter().any(|t| t.muted))
    })
    .await;
    b.leave().await.expect("bob leaves through node two");
    crate::harness::wait_until("alice is alone", crate::calls_support::LIMIT, || a.participants().len() == 1).await;
    a.leave().await.unwrap();
    assert!(alice.chat(&chat.id).running_call().await.unwrap().is_none());
}
