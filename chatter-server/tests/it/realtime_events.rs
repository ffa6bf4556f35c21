//! Live events on `/v1/ws`: messages, typing, read markers, presence, membership,
//! commands and their authorisation, bad frames, revocation.

use crate::harness::Server;
use crate::ws_client::Ws;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const QUIET: Duration = Duration::from_millis(300);

#[tokio::test]
async fn both_sessions_of_the_recipient_get_the_message_and_the_sender_gets_one_with_its_ref() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let bob2 = s.login("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.add(&chat, &alice, &bob).await;
    let mut a = Ws::connect(&s, &alice).await;
    let mut b1 = Ws::connect(&s, &bob).await;
    let mut b2 = Ws::connect(&s, &bob2).await;
    a.send(json!({"type": "send", "ref": "r1", "chat_id": chat, "text": "hello", "client_id": "c1"})).await;
    let mine = a.next_of("message.created").await;
    assert_eq!(mine["ref"], "r1");
    assert_eq!((mine["chat_id"].as_str(), mine["message"]["text"].as_str()), (Some(chat.as_str()), Some("hello")));
    let seq = mine["event_seq"].as_u64().unwrap();
    for b in [&mut b1, &mut b2] {
        let got = b.next_of("message.created").await;
        assert_eq!((got["event_seq"].as_u64(), got["message"]["text"].as_str()), (Some(seq), Some("hello")));
        assert!(got.get("ref").is_none(), "others never see the sender's ref");
    }
    a.expect_silence_but(&["presence"], QUIET).await;
    // The same client_id again answers the first message, and nothing new is posted.
    a.send(json!({"type": "send", "ref": "r2", "chat_id": chat, "text": "hello", "client_id": "c1"})).await;
    let again = a.next_of("message.created").await;
    assert_eq!((again["ref"].as_str(), again["message"]["id"].clone()), (Some("r2"), mine["message"]["id"].clone()));
    b1.expect_silence_but(&["presence"], QUIET).await;
}

#[tokio::test]
async fn every_chat_change_reaches_members_with_gap_free_event_seqs() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let chat = s.group(&alice, "Team", "public").await;
    s.add(&chat, &alice, &bob).await;
    let mut b = Ws::connect(&s, &bob).await;
    let m = s.say(&chat, &alice, "one").await;
    let mpath = format!("/v1/chats/{chat}/messages/{}", m["id"].as_str().unwrap());
    s.patch(&mpath).by(&alice).json(json!({"text": "uno"})).send().await.expect(200);
    s.delete(&mpath).by(&alice).send().await.expect(204);
    s.patch(&format!("/v1/chats/{chat}")).by(&alice).json(json!({"title": "Renamed"})).send().await.expect(200);
    s.add(&chat, &alice, &carol).await;
    s.make_admin(&chat, &alice, &carol).await;
    s.delete(&format!("/v1/chats/{chat}/members/{}", carol.id)).by(&alice).send().await.expect(204);
    let expected = [
        "message.created",
        "message.edited",
        "message.deleted",
        "chat.updated",
        "chat.member_joined",
        "chat.member_role",
        "chat.member_left",
    ];
    let mut seqs = Vec::new();
    for kind in expected {
        let f = b.next().await;
        assert_eq!(f["type"], kind, "{f}");
        assert_eq!(f["chat_id"], chat.as_str());
        seqs.push(f["event_seq"].as_u64().unwrap());
        match kind {
            "message.edited" => assert_eq!(f["message"]["text"], "uno"),
            "message.deleted" => assert_eq!((f["message_id"].clone(), f["seq"].as_u64()), (m["id"].clone(), Some(1))),
            "chat.updated" => assert_eq!(f["chat"]["title"], "Renamed"),
            "chat.member_joined" => {
                assert_eq!((f["user"]["id"].as_str(), f["role"].as_str()), (Some(carol.id.as_str()), Some("member")))
            }
            "chat.member_role" => assert_eq!(f["role"], "admin"),
            "chat.member_left" => {
                assert_eq!((f["user_id"].as_str(), f["reason"].as_str()), (Some(carol.id.as_str()), Some("removed")))
            }
            _ => {}
        }
    }
    let first = seqs[0];
    assert_eq!(seqs, (first..first + 7).collect::<Vec<_>>());
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn typing_and_read_markers_reach_the_other_members() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.add(&chat, &alice, &bob).await;
    s.say(&chat, &alice, "hi").await;
    let mut a = Ws::connect(&s, &alice).await;
    let mut b = Ws::connect(&s, &bob).await;
    b.send(json!({"type": "typing", "chat_id": chat})).await;
    let typing = a.next_of("typing").await;
    assert_eq!((typing["chat_id"].as_str(), typing["user_id"].as_str()), (Some(chat.as_str()), Some(bob.id.as_str())));
    assert!(typing.get("event_seq").is_none(), "typing is ephemeral");
    // Throttled: a second notice within 3 s is not passed on. (Presence is announced
    // by a task of its own after the store answers, so it may come at any point.)
    b.send(json!({"type": "typing", "chat_id": chat})).await;
    a.expect_silence_but(&["presence"], QUIET).await;
    b.expect_silence_but(&["presence"], QUIET).await;
    b.send(json!({"type": "read", "chat_id": chat, "seq": 1})).await;
    let read = a.next_of("read").await;
    assert_eq!((read["user_id"].as_str(), read["seq"].as_u64()), (Some(bob.id.as_str()), Some(1)));
    let summary = s.get(&format!("/v1/chats/{chat}")).by(&bob).send().await.expect(200);
    assert_eq!(summary["read_seq"], 1);
}

#[tokio::test]
async fn presence_goes_online_with_the_first_socket_and_offline_with_the_last() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let bob2 = s.login("bob").await;
    s.direct(&alice, &bob).await;
    let mut a = Ws::connect(&s, &alice).await;
    let b1 = Ws::connect(&s, &bob).await;
    let online = a.next_of("presence").await;
    assert_eq!((online["user_id"].as_str(), online["online"].as_bool()), (Some(bob.id.as_str()), Some(true)));
    let b2 = Ws::connect(&s, &bob2).await;
    drop(b1);
    a.expect_silence(QUIET).await;
    drop(b2);
    let offline = a.next_of("presence").await;
    assert_eq!((offline["user_id"].as_str(), offline["online"].as_bool()), (Some(bob.id.as_str()), Some(false)));
}

#[tokio::test]
async fn a_new_socket_hears_at_once_who_is_online_already() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    s.direct(&alice, &bob).await;
    let _b = Ws::connect(&s, &bob).await;
    let _c = Ws::connect(&s, &carol).await; // online, but shares no chat with alice
    let mut a = Ws::connect_quietly(&s, &alice).await;
    assert_eq!(a.next().await["type"], "ready");
    let online = a.next().await;
    assert_eq!((online["type"].as_str(), online["user_id"].as_str()), (Some("presence"), Some(bob.id.as_str())));
    assert_eq!(online["online"], true);
    a.expect_silence(QUIET).await;
}

#[tokio::test]
async fn commands_into_foreign_chats_are_refused_and_reach_nobody() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let eve = s.register("eve").await;
    let private = s.group(&alice, "Secret", "private").await;
    let public = s.group(&alice, "Open", "public").await;
    let mut a = Ws::connect(&s, &alice).await;
    let mut e = Ws::connect(&s, &eve).await;
    e.send(json!({"type": "send", "ref": "x1", "chat_id": private, "text": "hi", "client_id": "k1"})).await;
    let err = e.next_of("error").await;
    assert_eq!((err["code"].as_str(), err["ref"].as_str()), (Some("not_found"), Some("x1")));
    e.send(json!({"type": "send", "ref": "x2", "chat_id": public, "text": "hi", "client_id": "k2"})).await;
    let err = e.next_of("error").await;
    assert_eq!((err["code"].as_str(), err["ref"].as_str()), (Some("forbidden"), Some("x2")));
    e.send(json!({"type": "typing", "chat_id": private})).await;
    assert_eq!(e.next_of("error").await["code"], "not_found");
    e.send(json!({"type": "read", "chat_id": public, "seq": 0})).await;
    assert_eq!(e.next_of("error").await["code"], "forbidden");
    e.send(json!({"type": "send", "ref": "x3", "chat_id": public, "text": "", "client_id": "k3"})).await;
    assert_eq!(e.next_of("error").await["code"], "forbidden");
    a.expect_silence(QUIET).await;
    for chat in [&private, &public] {
        let history = s.get(&format!("/v1/chats/{chat}/messages")).by(&alice).send().await.expect(200);
        assert_eq!(history["messages"], json!([]));
    }
}

#[tokio::test]
async fn membership_changes_take_effect_without_reconnecting() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    let mut b = Ws::connect(&s, &bob).await;
    s.say(&chat, &alice, "before bob").await;
    b.expect_silence(QUIET).await;
    s.add(&chat, &alice, &bob).await;
    let added = b.next_of("chat.added").await;
    assert_eq!(added["chat"]["id"], chat.as_str());
    s.say(&chat, &alice, "for bob").await;
    assert_eq!(b.next_of("message.created").await["message"]["text"], "for bob");
    s.delete(&format!("/v1/chats/{chat}/members/{}", bob.id)).by(&alice).send().await.expect(204);
    assert_eq!(b.next_of("chat.removed").await["chat_id"], chat.as_str());
    s.say(&chat, &alice, "after bob").await;
    b.expect_silence(QUIET).await;
    // Joining a public chat and leaving it work the same way.
    let open = s.group(&alice, "Open", "public").await;
    s.post(&format!("/v1/chats/{open}/join")).by(&bob).send().await.expect(200);
    assert_eq!(b.next_of("chat.added").await["chat"]["id"], open.as_str());
    s.post(&format!("/v1/chats/{open}/leave")).by(&bob).send().await.expect(204);
    assert_eq!(b.next_of("chat.removed").await["chat_id"], open.as_str());
    s.say(&open, &alice, "gone").await;
    b.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_new_chat_reaches_its_members_as_chat_added() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let mut b = Ws::connect(&s, &bob).await;
    let dm = s.direct(&alice, &bob).await;
    assert_eq!(b.next_of("chat.added").await["chat"]["id"], dm.as_str());
    s.say(&dm, &alice, "hey").await;
    assert_eq!(b.next_of("message.created").await["message"]["text"], "hey");
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_stays_usable() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    let mut a = Ws::connect(&s, &alice).await;
    for (raw, needle) in [
        ("{not json", "JSON"),
        ("[1,2]", "type"),
        (r#"{"type":"dance"}"#, "dance"),
        (r#"{"type":"send","chat_id":"x"}"#, "send"),
        (r#"{"type":"typing"}"#, "typing"),
    ] {
        a.send_raw(Message::text(raw)).await;
        let err = a.next_of("error").await;
        assert_eq!(err["code"], "invalid_request", "{raw}");
        assert!(err["message"].as_str().unwrap().contains(needle), "{raw}: {err}");
    }
    a.send_raw(Message::binary(vec![1u8, 2, 3])).await;
    assert_eq!(a.next_of("error").await["code"], "invalid_request");
    a.send(json!({"type": "auth", "token": alice.token})).await;
    assert_eq!(a.next_of("error").await["code"], "invalid_request");
    a.send(json!({"type": "send", "ref": "ok", "chat_id": chat, "text": "still here", "client_id": "k"})).await;
    assert_eq!(a.next_of("message.created").await["ref"], "ok");
    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.next_of("pong").await["type"], "pong");
}

#[tokio::test]
async fn logout_revocation_password_change_and_deletion_close_sockets_with_4001() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let phone = s.login("alice").await;
    let tablet = s.login("alice").await;
    let mut main = Ws::connect(&s, &alice).await;
    let mut p = Ws::connect(&s, &phone).await;
    let mut t = Ws::connect(&s, &tablet).await;
    // Logout closes only that session's socket.
    s.delete("/v1/sessions/current").by(&phone).send().await.expect(204);
    assert_eq!(p.closed_with(Duration::from_secs(3)).await, Some(4001));
    // A password change closes the other sessions' sockets.
    s.post("/v1/users/me/password")
        .by(&alice)
        .json(json!({"old_password": "password-alice", "new_password": "a new password"}))
        .send()
        .await
        .expect(204);
    assert_eq!(t.closed_with(Duration::from_secs(3)).await, Some(4001));
    main.send(json!({"type": "ping"})).await;
    assert_eq!(main.next_of("pong").await["type"], "pong", "the current session's socket stays");
    s.delete("/v1/users/me").by(&alice).json(json!({"password": "a new password"})).send().await.expect(204);
    assert_eq!(main.closed_with(Duration::from_secs(3)).await, Some(4001));
}

#[tokio::test]
async fn a_client_that_sends_nothing_still_gets_live_events_after_the_hold() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.add(&chat, &alice, &bob).await;
    let mut b = Ws::connect_quietly(&s, &bob).await;
    assert_eq!(b.next().await["type"], "ready");
    s.say(&chat, &alice, "no resume needed").await;
    let t = std::time::Instant::now();
    let got = b.next_of("message.created").await;
    assert_eq!(got["message"]["text"], "no resume needed");
    assert!(t.elapsed() < Duration::from_secs(2), "held at most ~0.5 s: {:?}", t.elapsed());
}

#[tokio::test]
async fn concurrent_senders_reach_a_member_gap_free_in_order_and_once() {
    let s = Server::start().await;
    let ([alice, bob, carol], chat) = s.team(["alice", "bob", "carol"]).await;
    let mut c = Ws::connect(&s, &carol).await;
    let mut a = Ws::connect(&s, &alice).await;
    let mut b = Ws::connect(&s, &bob).await;
    // Both post at once, without waiting for answers: their events commit one after the
    // other but may reach the fan-out in either order.
    const EACH: usize = 150;
    for i in 0..EACH {
        for (ws, who) in [(&mut a, "a"), (&mut b, "b")] {
            let text = format!("{who}{i}");
            ws.send(json!({"type": "send", "ref": text, "chat_id": chat, "text": text, "client_id": text})).await;
        }
    }
    let mut seqs = Vec::new();
    let mut texts = std::collections::HashSet::new();
    while seqs.len() < 2 * EACH {
        let got = c.next_of("message.created").await;
        seqs.push(got["event_seq"].as_u64().unwrap());
        assert!(texts.insert(got["message"]["text"].as_str().unwrap().to_owned()), "delivered twice: {got}");
    }
    let first = seqs[0];
    assert_eq!(seqs, (first..first + 2 * EACH as u64).collect::<Vec<_>>(), "gap-free and in order");
    c.expect_silence_but(&["presence"], QUIET).await;
}
