//! Durability: a restart keeps everything; an unreachable store answers 503 fast and
//! loses nothing.

use crate::harness::{Server, seqs};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_restart_keeps_users_sessions_chats_and_messages() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Durable", "private").await;
    s.add(&chat, &alice, &bob).await;
    for n in 0..5 {
        s.say(&chat, &bob, &format!("m{n}")).await;
    }
    s.post(&format!("/v1/chats/{chat}/read")).by(&alice).json(json!({"seq": 3})).send().await.expect(204);
    let before = s.get(&format!("/v1/chats/{chat}")).by(&alice).send().await.expect(200);
    let s = s.restart().await;
    // The old tokens still work: sessions survived.
    let me = s.get("/v1/users/me").by(&alice).send().await.expect(200);
    assert_eq!(me["username"], "alice");
    let after = s.get(&format!("/v1/chats/{chat}")).by(&alice).send().await.expect(200);
    assert_eq!(after, before);
    let history = s.get(&format!("/v1/chats/{chat}/messages")).by(&bob).send().await.expect(200);
    assert_eq!(seqs(&history), [1, 2, 3, 4, 5]);
    // Seqs go on without a gap after the restart.
    assert_eq!(s.say(&chat, &bob, "after").await["seq"], 6);
    s.post("/v1/sessions").json(json!({"username": "bob", "password": "password-bob"})).send().await.expect(201);
}

#[tokio::test]
async fn a_locked_store_answers_503_within_two_seconds_and_a_retry_loses_nothing() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = match s.database_url.clone() {
        // Postgres: another session holds the chat's row lock, which every send takes.
        Some(url) => {
            let chat = chat.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    let (mut client, connection) =
                        tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
                    tokio::spawn(connection);
                    let tx = client.transaction().await.expect("begin");
                    tx.execute("SELECT 1 FROM chats WHERE id = $1 FOR UPDATE", &[&chat]).await.expect("lock");
                    locked_tx.send(()).expect("signal");
                    let _ = tokio::task::spawn_blocking(move || release_rx.recv()).await;
                    tx.commit().await.expect("unlock");
                });
            })
        }
        // SQLite: another connection holds the database's write lock.
        None => {
            let db = s.data_dir.join("chatter.db");
            std::thread::spawn(move || {
                let conn = rusqlite::Connection::open(db).expect("open");
                conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
                locked_tx.send(()).expect("signal");
                let _ = release_rx.recv();
                conn.execute_batch("COMMIT").expect("unlock");
            })
        }
    };
    locked_rx.recv().expect("locked");
    let send = json!({"text": "important", "client_id": "retry-me"});
    let t = Instant::now();
    let r = s.post(&format!("/v1/chats/{chat}/messages")).by(&alice).json(send.clone()).send().await;
    let took = t.elapsed();
    assert!(took < Duration::from_millis(2500), "answered in {took:?}");
    assert!(r.headers.get("retry-after").is_some());
    r.expect_error(503, "unavailable");
    release_tx.send(()).expect("release");
    holder.join().expect("holder");
    s.post(&format!("/v1/chats/{chat}/messages")).by(&alice).json(send.clone()).send().await.expect(201);
    s.post(&format!("/v1/chats/{chat}/messages")).by(&alice).json(send).send().await.expect(200);
    let history = s.get(&format!("/v1/chats/{chat}/messages")).by(&alice).send().await.expect(200);
    assert_eq!(seqs(&history), [1]);
}
