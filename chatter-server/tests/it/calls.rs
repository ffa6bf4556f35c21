//! Calls without media: joining, who hears of it, leaving, limits and refusals. Media
//! between real WebRTC clients is tested with the SDK (chatter-sdk/tests/calls.rs).

use crate::harness::Server;
use crate::ws_client::Ws;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn members_join_others_hear_of_it_and_the_last_one_out_ends_the_call() {
    let s = Server::start().await;
    let ([alice, bob], chat) = s.team(["alice", "bob"]).await;
    let mut a = Ws::connect(&s, &alice).await;
    let mut b = Ws::connect(&s, &bob).await;
    s.get(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect_error(404, "not_found");

    let joined = s.post(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect(200);
    let call_id = joined["call_id"].as_str().unwrap().to_owned();
    let alice_pid = joined["participant_id"].as_str().unwrap().to_owned();
    assert_eq!(joined["participants"], json!([{"participant_id": alice_pid, "user_id": alice.id, "tracks": []}]));
    assert_eq!(joined["ice_servers"], json!([]));
    for ws in [&mut a, &mut b] {
        let started = ws.next_of("call.started").await;
        assert_eq!(
            (started["chat_id"].as_str(), started["call_id"].as_str()),
            (Some(chat.as_str()), Some(call_id.as_str()))
        );
    }

    let joined_b = s.post(&format!("/v1/chats/{chat}/call")).by(&bob).send().await.expect(200);
    assert_eq!(joined_b["call_id"], call_id.as_str(), "one call at a time per chat");
    let bob_pid = joined_b["participant_id"].as_str().unwrap().to_owned();
    assert_eq!(joined_b["participants"].as_array().unwrap().len(), 2);
    let heard = a.next_of("call.participant_joined").await;
    assert_eq!(
        (heard["call_id"].as_str(), heard["participant"]["user_id"].as_str()),
        (Some(call_id.as_str()), Some(bob.id.as_str()))
    );
    let info = s.get(&format!("/v1/chats/{chat}/call")).by(&bob).send().await.expect(200);
    assert_eq!(info["participants"].as_array().unwrap().len(), 2);

    s.post(&format!("/v1/chats/{chat}/call/leave")).by(&alice).send().await.expect(204);
    for ws in [&mut a, &mut b] {
        let left = ws.next_of("call.participant_left").await;
        assert_eq!(
            (left["participant_id"].as_str(), left["reason"].as_str()),
            (Some(alice_pid.as_str()), Some("left"))
        );
    }
    s.post(&format!("/v1/chats/{chat}/call/leave")).by(&alice).send().await.expect_error(404, "not_found");
    s.post(&format!("/v1/chats/{chat}/call/leave")).by(&bob).send().await.expect(204);
    let left = b.next_of("call.participant_left").await;
    assert_eq!(left["participant_id"], bob_pid.as_str());
    for ws in [&mut a, &mut b] {
        let ended = ws.next_of("call.ended").await;
        assert_eq!(ended["call_id"], call_id.as_str());
    }
    s.get(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect_error(404, "not_found");
}

#[tokio::test]
async fn only_members_join_and_the_participant_cap_holds() {
    let s = Server::start_adjusted(|config| {
        config.calls.max_participants = 2;
    })
    .await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let mallory = s.register("mallory").await;
    let private = s.group(&alice, "Secret", "private").await;
    let public = s.group(&alice, "Lobby", "public").await;
    for chat in [&private, &public] {
        s.add(chat, &alice, &bob).await;
        s.add(chat, &alice, &carol).await;
    }
    // A private chat stays unseen; a public one's visitor is told to join the chat first.
    s.post(&format!("/v1/chats/{private}/call")).by(&mallory).send().await.expect_error(404, "not_found");
    s.post(&format!("/v1/chats/{public}/call")).by(&mallory).send().await.expect_error(403, "forbidden");
    s.get(&format!("/v1/chats/{private}/call")).by(&mallory).send().await.expect_error(404, "not_found");

    s.post(&format!("/v1/chats/{private}/call")).by(&alice).send().await.expect(200);
    s.post(&format!("/v1/chats/{private}/call")).by(&bob).send().await.expect(200);
    let full = s.post(&format!("/v1/chats/{private}/call")).by(&carol).send().await.expect_error(403, "forbidden");
    assert!(full["message"].as_str().unwrap().contains("full"), "{full}");
    // Joining again from the same session replaces its participant: no room taken.
    s.post(&format!("/v1/chats/{private}/call")).by(&bob).send().await.expect(200);
    let info = s.get(&format!("/v1/chats/{private}/call")).by(&alice).send().await.expect(200);
    assert_eq!(info["participants"].as_array().unwrap().len(), 2);
    // The cap is per call.
    s.post(&format!("/v1/chats/{public}/call")).by(&carol).send().await.expect(200);
}

#[tokio::test]
async fn bad_signalling_gets_error_frames_and_nobody_acts_for_another() {
    let s = Server::start().await;
    let ([alice, bob], chat) = s.team(["alice", "bob"]).await;
    let mut a = Ws::connect(&s, &alice).await;
    let mut b = Ws::connect(&s, &bob).await;
    let joined = s.post(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect(200);
    let call_id = joined["call_id"].as_str().unwrap().to_owned();

    let huge = "a".repeat(40 * 1024);
    a.send(json!({"type": "call.offer", "call_id": call_id, "sdp": huge})).await;
    let error = a.next_of("error").await;
    assert_eq!((&error["code"], &error["field"]), (&json!("validation_failed"), &json!("sdp")), "{error}");
    a.send(json!({"type": "call.offer", "call_id": call_id, "sdp": "not an sdp"})).await;
    assert_eq!(a.next_of("error").await["code"], "invalid_request");
    a.send(json!({"type": "call.answer", "call_id": call_id, "sdp": "v=0"})).await;
    assert_eq!(a.next_of("error").await["code"], "invalid_request");
    a.send(json!({"type": "call.ice", "call_id": call_id, "candidate": {"candidate": "candidate:nonsense"}})).await;
    assert_eq!(a.next_of("error").await["code"], "invalid_request");
    a.send(json!({"type": "call.publish", "call_id": call_id, "kind": "hologram", "enabled": true})).await;
    assert_eq!(a.next_of("error").await["code"], "invalid_request");
    a.send(json!({"type": "call.mute", "call_id": call_id, "track_id": "nope", "muted": true})).await;
    assert_eq!(a.next_of("error").await["code"], "not_found");

    // Bob is in the chat but not in the call: he cannot signal or mute for Alice.
    b.send(json!({"type": "call.offer", "call_id": call_id, "sdp": "v=0"})).await;
    assert_eq!(b.next_of("error").await["code"], "not_found");
    b.send(json!({"type": "call.publish", "call_id": call_id, "kind": "audio", "enabled": true})).await;
    assert_eq!(b.next_of("error").await["code"], "not_found");
    let info = s.get(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect(200);
    assert_eq!(info["participants"].as_array().unwrap().len(), 1);
    // The socket stays usable after every refusal.
    a.send(json!({"type": "ping"})).await;
    a.next_of("pong").await;
}

#[tokio::test]
async fn a_participant_without_a_socket_leaves_after_the_grace_and_a_revoked_one_at_once() {
    let s = Server::start_adjusted(|config| {
        config.calls.socket_grace = std::time::Duration::from_secs(1);
    })
    .await;
    let ([alice, bob, carol], chat) = s.team(["alice", "bob", "carol"]).await;
    let mut a = Ws::connect(&s, &alice).await;
    let c = Ws::connect(&s, &carol).await;
    s.post(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect(200);
    // Bob joins over REST but never opens a socket.
    let bob_pid = s.post(&format!("/v1/chats/{chat}/call")).by(&bob).send().await.expect(200)["participant_id"].clone();
    let carol_pid =
        s.post(&format!("/v1/chats/{chat}/call")).by(&carol).send().await.expect(200)["participant_id"].clone();
    let started = tokio::time::Instant::now();
    let left = a.next_of("call.participant_left").await;
    assert_eq!((&left["participant_id"], left["reason"].as_str()), (&bob_pid, Some("disconnected")));
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(3), "left after {waited:?}");

    // Carol's session is revoked: her participant goes at once, not after the grace.
    drop(c);
    s.delete("/v1/sessions/current").by(&carol).send().await.expect(204);
    let left = tokio::time::timeout(Duration::from_millis(800), a.next_of("call.participant_left")).await.unwrap();
    assert_eq!((&left["participant_id"], left["reason"].as_str()), (&carol_pid, Some("removed")));
}

#[tokio::test]
async fn join_hands_out_stun_and_time_limited_turn_credentials() {
    let s = Server::start_adjusted(|config| {
        config.calls.stun_urls = vec!["stun:stun.example.org:3478".into()];
        config.calls.turn_urls =
            vec!["turn:turn.example.org:3478?transport=udp".into(), "turns:turn.example.org:5349".into()];
        config.calls.turn_secret = Some("north-wind".into());
        config.calls.turn_ttl = std::time::Duration::from_secs(600);
    })
    .await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    let joined = s.post(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect(200);
    let servers = joined["ice_servers"].as_array().unwrap();
    assert_eq!(servers[0], json!({"urls": ["stun:stun.example.org:3478"]}));
    assert_eq!(servers[1]["urls"].as_array().unwrap().len(), 2);
    let username = servers[1]["username"].as_str().unwrap();
    let (expiry, user) = username.split_once(':').unwrap();
    assert_eq!(user, alice.id.as_str());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let expiry: u64 = expiry.parse().unwrap();
    assert!(expiry > now + 590 && expiry <= now + 601, "expires at {expiry}, now {now}");
    let expected = chatter_server::sfu::turn_credentials(
        "north-wind",
        &chatter_core::UserId::new(alice.id.as_str()),
        std::time::UNIX_EPOCH + Duration::from_secs(expiry),
    );
    assert_eq!(servers[1]["credential"].as_str(), Some(expected.1.as_str()));
}

#[tokio::test]
async fn a_member_removed_from_the_chat_leaves_its_call() {
    let s = Server::start().await;
    let ([alice, bob], chat) = s.team(["alice", "bob"]).await;
    let mut a = Ws::connect(&s, &alice).await;
    let _b = Ws::connect(&s, &bob).await;
    s.post(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect(200);
    let bob_pid = s.post(&format!("/v1/chats/{chat}/call")).by(&bob).send().await.expect(200)["participant_id"].clone();
    s.delete(&format!("/v1/chats/{chat}/members/{}", bob.id)).by(&alice).send().await.expect(204);
    let left = a.next_of("call.participant_left").await;
    assert_eq!((&left["participant_id"], left["reason"].as_str()), (&bob_pid, Some("removed")));
    let info = s.get(&format!("/v1/chats/{chat}/call")).by(&alice).send().await.expect(200);
    assert_eq!(info["participants"].as_array().unwrap().len(), 1);
}
