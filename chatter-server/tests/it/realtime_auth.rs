//! `/v1/ws` authentication and Origin checks.

use crate::harness::Server;
use crate::ws_client::{Refused, Ws, open};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_bearer_token_at_the_upgrade_gets_ready() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let mut ws = Ws::connect_quietly(&s, &alice).await;
    let ready = ws.next().await;
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["user_id"], alice.id.as_str());
    assert!(ready["session_id"].is_string());
    assert_eq!(ready["heartbeat_ms"], 25_000);
}

#[tokio::test]
async fn the_session_cookie_with_the_own_origin_gets_ready() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let origin = s.base.clone();
    let cookie = format!("chatter_session={}", alice.token);
    let mut ws = open(&s, &[("cookie", &cookie), ("origin", &origin)]).await.expect("opens");
    assert_eq!(ws.next().await["type"], "ready");
}

#[tokio::test]
async fn invalid_or_revoked_tokens_and_foreign_origins_never_get_a_101() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bad = open(&s, &[("authorization", "Bearer nope")]).await;
    assert!(matches!(bad, Err(Refused::Http(401))), "{:?}", bad.err());
    let cookie = open(&s, &[("cookie", "chatter_session=nope")]).await;
    assert!(matches!(cookie, Err(Refused::Http(401))), "{:?}", cookie.err());
    let auth = format!("Bearer {}", alice.token);
    let evil = open(&s, &[("authorization", &auth), ("origin", "https://evil.example")]).await;
    assert!(matches!(evil, Err(Refused::Http(403))), "{:?}", evil.err());
    s.delete("/v1/sessions/current").by(&alice).send().await.expect(204);
    let revoked = open(&s, &[("authorization", &auth)]).await;
    assert!(matches!(revoked, Err(Refused::Http(401))), "{:?}", revoked.err());
}

#[tokio::test]
async fn an_auth_frame_authenticates_a_socket_opened_without_credentials() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let mut ws = open(&s, &[]).await.expect("opens");
    ws.send(json!({"type": "auth", "token": alice.token})).await;
    let ready = ws.next().await;
    assert_eq!((ready["type"].as_str(), ready["user_id"].as_str()), (Some("ready"), Some(alice.id.as_str())));
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong");
}

#[tokio::test]
async fn a_bad_auth_frame_closes_with_4001() {
    let s = Server::start().await;
    let mut ws = open(&s, &[]).await.expect("opens");
    ws.send(json!({"type": "auth", "token": "wrong"})).await;
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4001));
    let mut ws = open(&s, &[]).await.expect("opens");
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.closed_with(Duration::from_secs(5)).await, Some(4001), "the first frame must be auth");
}

#[tokio::test]
async fn a_silent_socket_without_credentials_is_closed_after_5_s() {
    let s = Server::start().await;
    let mut ws = open(&s, &[]).await.expect("opens");
    let t = Instant::now();
    assert_eq!(ws.closed_with(Duration::from_secs(8)).await, Some(4001));
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(4500), "not before 5 s: {took:?}");
}

#[tokio::test]
async fn a_requested_subprotocol_gets_a_clear_400() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let auth = format!("Bearer {}", alice.token);
    let refused = open(&s, &[("authorization", &auth), ("sec-websocket-protocol", "chat")]).await;
    assert!(matches!(refused, Err(Refused::Http(400))), "{:?}", refused.err());
}
