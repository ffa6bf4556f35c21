//! Limits on `/v1/ws`: frame size, connection caps, slow consumers, heartbeats, shutdown.

use crate::harness::{Server, test_config};
use crate::ws_client::Ws;
use futures::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

async fn server_with(tweak: impl FnOnce(&mut chatter_server::ServerConfig)) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(dir.path());
    tweak(&mut config);
    (Server::start_with(config).await, dir)
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_with_1009() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let mut ws = Ws::connect(&s, &alice).await;
    ws.send_raw(Message::text("x".repeat(65 * 1024))).await;
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(1009));
}

#[tokio::test]
async fn fragments_adding_up_to_over_64_kib_close_with_1009() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let mut ws = Ws::connect(&s, &alice).await;
    let part = "y".repeat(30 * 1024);
    ws.send_raw(Message::Frame(Frame::message(part.clone(), OpCode::Data(Data::Text), false))).await;
    ws.send_raw(Message::Frame(Frame::message(part.clone(), OpCode::Data(Data::Continue), false))).await;
    ws.send_raw(Message::Frame(Frame::message(part, OpCode::Data(Data::Continue), true))).await;
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(1009));
}

#[tokio::test]
async fn a_frame_just_under_the_limit_is_an_ordinary_bad_frame() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let mut ws = Ws::connect(&s, &alice).await;
    ws.send_raw(Message::text("z".repeat(60 * 1024))).await;
    assert_eq!(ws.next_of("error").await["code"], "invalid_request");
}

#[tokio::test]
async fn connection_caps_close_extra_sockets_with_4029() {
    let (s, _dir) = server_with(|c| {
        c.realtime.max_connections_per_user = 2;
        c.realtime.max_connections = 3;
    })
    .await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let _a1 = Ws::connect(&s, &alice).await;
    let _a2 = Ws::connect(&s, &alice).await;
    let mut a3 = Ws::connect_quietly(&s, &alice).await;
    assert_eq!(a3.closed_with(Duration::from_secs(5)).await, Some(4029), "per-user cap");
    let _b1 = Ws::connect(&s, &bob).await;
    let mut c1 = Ws::connect_quietly(&s, &carol).await;
    assert_eq!(c1.closed_with(Duration::from_secs(5)).await, Some(4029), "node cap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_with_4008_while_a_reader_keeps_up() {
    let (s, _dir) = server_with(|c| {
        c.realtime.queue = 64;
        c.realtime.heartbeat = std::time::Duration::from_millis(600_000);
    })
    .await;
    let alice = s.register("alice").await;
    let slow = s.register("slow").await;
    let fast = s.register("fast").await;
    let chat = s.group(&alice, "Flood", "public").await;
    s.add(&chat, &alice, &slow).await;
    s.add(&chat, &alice, &fast).await;
    let mut sleeper = Ws::connect(&s, &slow).await;
    let mut reader = Ws::connect(&s, &fast).await;
    let mut sender = Ws::connect(&s, &alice).await;
    let total = 2500u64;
    let text = "f".repeat(3900);
    let reading = tokio::spawn(async move {
        let mut worst = Duration::ZERO;
        let mut got = 0u64;
        while got < total {
            let f = reader.next_within(Duration::from_secs(10)).await.expect("the reader keeps getting frames");
            if f["type"] == "message.created" {
                let sent_at_micros: i64 = f["message"]["client_id"].as_str().unwrap().parse().unwrap();
                let now = chrono_micros();
                worst = worst.max(Duration::from_micros((now - sent_at_micros).max(0) as u64));
                got += 1;
            }
        }
        worst
    });
    for n in 0..total {
        let client_id = chrono_micros().to_string();
        sender
            .send(json!({"type": "send", "ref": n.to_string(), "chat_id": chat, "text": text, "client_id": client_id}))
            .await;
        sender.next_of("message.created").await;
    }
    let worst = reading.await.expect("reader task");
    assert!(worst < Duration::from_secs(1), "every message reached the reading client within 1 s (worst {worst:?})");
    // The sleeper now reads: its backlog, then the close.
    let t = Instant::now();
    assert_eq!(sleeper.closed_with(Duration::from_secs(40)).await, Some(4008));
    assert!(t.elapsed() < Duration::from_secs(40));
}

fn chrono_micros() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

#[tokio::test]
async fn an_idle_reading_client_is_kept_alive_and_a_dead_one_is_closed() {
    let (s, _dir) = server_with(|c| c.realtime.heartbeat = std::time::Duration::from_millis(150)).await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let mut idle = Ws::connect(&s, &alice).await;
    let mut dead = Ws::connect(&s, &bob).await;
    // The idle client reads (and so answers pings) but sends nothing for 1.2 s.
    let mut pings = 0;
    let until = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_millis(100), idle.socket.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(Message::Close(c)))) => panic!("the idle client was closed: {c:?}"),
            _ => {}
        }
    }
    assert!(pings >= 3, "the server pinged ({pings} pings)");
    idle.send(json!({"type": "ping"})).await;
    assert_eq!(idle.next_of("pong").await["type"], "pong");
    // The dead client read nothing meanwhile: no pongs went back, so it was closed.
    let code = dead.closed_with(Duration::from_secs(3)).await;
    assert!(matches!(code, Some(4000) | None), "closed for missing pings: {code:?}");
}

#[tokio::test]
async fn a_server_shutdown_closes_sockets_with_1001() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let mut ws = Ws::connect(&s, &alice).await;
    let stopping = tokio::spawn(async move { s.stop().await });
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(1001));
    stopping.await.expect("stopped");
}

#[tokio::test]
async fn sockets_waiting_for_their_auth_frame_count_against_the_node_cap() {
    let (s, _dir) = server_with(|c| c.realtime.max_connections = 2).await;
    let alice = s.register("alice").await;
    let _a = Ws::connect(&s, &alice).await;
    let mut waiting = crate::ws_client::open(&s, &[]).await.expect("opens");
    let mut extra = crate::ws_client::open(&s, &[]).await.expect("opens");
    assert_eq!(extra.closed_with(Duration::from_secs(3)).await, Some(4029));
    // The waiting one still authenticates.
    waiting.send(json!({"type": "auth", "token": alice.token})).await;
    assert_eq!(waiting.next().await["type"], "ready");
}
