//! Deletion holds everywhere (both passes: SQLite, then Postgres): text deleted or
//! edited away, and the profile of a deleted account, cannot be read back by anyone who
//! comes later, through the socket's replay or REST.

use crate::harness::{Server, TestUser};
use crate::ws_client::Ws;
use serde_json::{Value, json};

const OLD: [&str; 5] = ["SECRET launch code", "first draft", "second draft", "Bob Secretname", "bob's secret bio"];

/// Every frame of a resume of `chat` from event 0, up to `resumed`.
async fn replay_from_zero(server: &Server, user: &TestUser, chat: &str) -> Vec<Value> {
    let mut ws = Ws::connect_quietly(server, user).await;
    ws.next_of("ready").await;
    ws.send(json!({"type": "resume", "chats": {chat: 0}})).await;
    let mut frames = Vec::new();
    loop {
        let frame = ws.next().await;
        if frame["type"] == "resumed" {
            return frames;
        }
        frames.push(frame);
    }
}

fn assert_none_of_the_old(what: &str, body: &str) {
    for old in OLD {
        assert!(!body.contains(old), "{old:?} can be read back from {what}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_and_edited_text_and_deleted_profiles_cannot_be_read_back() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    s.patch("/v1/users/me")
        .by(&bob)
        .json(json!({"display_name": "Bob Secretname", "bio": "bob's secret bio"}))
        .send()
        .await
        .expect(200);
    let chat = s.group(&alice, "Open plan", "public").await;
    s.post(&format!("/v1/chats/{chat}/join")).by(&bob).send().await.expect(200);
    let secret = s.say(&chat, &alice, "SECRET launch code").await;
    let draft = s.say(&chat, &alice, "first draft").await;
    s.say(&chat, &bob, "hello from bob").await;
    let draft_url = format!("/v1/chats/{chat}/messages/{}", draft["id"].as_str().unwrap());
    for text in ["second draft", "final words"] {
        s.patch(&draft_url).by(&alice).json(json!({"text": text})).send().await.expect(200);
    }
    s.delete(&format!("/v1/chats/{chat}/messages/{}", secret["id"].as_str().unwrap()))
        .by(&alice)
        .send()
        .await
        .expect(204);
    s.delete("/v1/users/me").by(&bob).json(json!({"password": "password-bob"})).send().await.expect(204);

    // Carol comes later and reads everything there is to read.
    let carol = s.register("carol").await;
    s.post(&format!("/v1/chats/{chat}/join")).by(&carol).send().await.expect(200);
    let frames = replay_from_zero(&s, &carol, &chat).await;
    assert_none_of_the_old("the socket's replay", &serde_json::to_string(&frames).unwrap());
    let created: Vec<&Value> = frames.iter().filter(|f| f["type"] == "message.created").collect();
    assert_eq!(created.len(), 3, "{frames:?}");
    assert_eq!((&created[0]["message"]["deleted"], &created[0]["message"]["text"]), (&json!(true), &json!("")));
    assert_eq!(created[1]["message"]["text"], "final words");
    let edits: Vec<&Value> = frames.iter().filter(|f| f["type"] == "message.edited").collect();
    assert!(edits.len() == 2 && edits.iter().all(|f| f["message"]["text"] == "final words"), "{edits:?}");
    let bob_joined = frames
        .iter()
        .find(|f| f["type"] == "chat.member_joined" && f["user"]["id"] == bob.id.as_str())
        .expect("bob's join is replayed");
    assert_eq!(bob_joined["user"]["display_name"], "Deleted user");

    let history = s.get(&format!("/v1/chats/{chat}/messages?limit=200")).by(&carol).send().await.expect(200);
    assert_none_of_the_old("the history", &history.to_string());
    let summary = s.get(&format!("/v1/chats/{chat}")).by(&carol).send().await.expect(200);
    assert_none_of_the_old("the chat summary", &summary.to_string());
    let members = s.get(&format!("/v1/chats/{chat}/members")).by(&carol).send().await.expect(200);
    assert_none_of_the_old("the member list", &members.to_string());
    let profile = s.get(&format!("/v1/users/{}", bob.id)).by(&carol).send().await.expect(200);
    assert_none_of_the_old("bob's profile", &profile.to_string());
    for q in ["bob", "Bob Secret"] {
        let found = s.get(&format!("/v1/users?q={q}")).by(&carol).send().await.expect(200);
        assert_eq!(found["users"], json!([]), "user search for {q:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_direct_chat_shows_a_deleted_partner_blanked() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    s.patch("/v1/users/me").by(&bob).json(json!({"display_name": "Bob Secretname"})).send().await.expect(200);
    let chat = s.direct(&alice, &bob).await;
    let said = s.say(&chat, &bob, "SECRET launch code").await;
    s.delete(&format!("/v1/chats/{chat}/messages/{}", said["id"].as_str().unwrap())).by(&bob).send().await.expect(204);
    s.delete("/v1/users/me").by(&bob).json(json!({"password": "password-bob"})).send().await.expect(204);
    let frames = replay_from_zero(&s, &alice, &chat).await;
    assert_none_of_the_old("the socket's replay", &serde_json::to_string(&frames).unwrap());
    let list = s.get("/v1/chats").by(&alice).send().await.expect(200);
    assert_none_of_the_old("the chat list", &list.to_string());
}
