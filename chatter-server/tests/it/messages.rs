//! `/v1/chats/{id}/messages`: send, reply, idempotency, edit, delete, tombstones.

use crate::harness::Server;
use serde_json::{Value, json};

#[tokio::test]
async fn send_answers_the_message_with_seq_and_fields() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    let first = s.say(&chat, &alice, "  hello\n\tworld  ").await;
    assert_eq!(first["text"], "hello\n\tworld", "trimmed, inner newline and tab kept");
    assert_eq!((first["seq"].as_u64(), first["chat_id"].as_str()), (Some(1), Some(chat.as_str())));
    assert_eq!(first["sender_id"], alice.id.as_str());
    assert_eq!(
        (first["client_id"].clone(), first["reply_to"].clone(), first["edited_at"].clone()),
        (Value::Null, Value::Null, Value::Null)
    );
    assert_eq!(first["deleted"], false);
    let reply = s
        .post(&format!("/v1/chats/{chat}/messages"))
        .by(&alice)
        .json(json!({"text": "re", "reply_to": first["id"], "client_id": "c-1"}))
        .send()
        .await
        .expect(201);
    assert_eq!((reply["seq"].as_u64(), reply["reply_to"].clone()), (Some(2), first["id"].clone()));
    assert_eq!(reply["client_id"], "c-1");
    s.post("/v1/chats/nope/messages").by(&alice).json(json!({"text": "x"})).send().await.expect_error(404, "not_found");
}

#[tokio::test]
async fn the_same_client_id_twice_gives_the_first_message_with_200() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    let path = format!("/v1/chats/{chat}/messages");
    let first = s.post(&path).by(&alice).json(json!({"text": "once", "client_id": "k1"})).send().await.expect(201);
    let again = s.post(&path).by(&alice).json(json!({"text": "once", "client_id": "k1"})).send().await.expect(200);
    assert_eq!(first, again);
    let history = s.get(&path).by(&alice).send().await.expect(200);
    assert_eq!(crate::harness::seqs(&history), [1]);
}

#[tokio::test]
async fn concurrent_sends_with_one_client_id_make_one_message() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    let path = format!("/v1/chats/{chat}/messages");
    let sends = (0..16).map(|_| s.post(&path).by(&alice).json(json!({"text": "once", "client_id": "same"})).send());
    let results = futures::future::join_all(sends).await;
    let created = results.iter().filter(|r| r.status == 201).count();
    let repeated = results.iter().filter(|r| r.status == 200).count();
    assert_eq!((created, repeated), (1, 15));
    let ids: std::collections::HashSet<_> = results.iter().map(|r| r.body["id"].to_string()).collect();
    assert_eq!(ids.len(), 1);
    let history = s.get(&path).by(&alice).send().await.expect(200);
    assert_eq!(crate::harness::seqs(&history), [1]);
}

#[tokio::test]
async fn edit_changes_text_and_sets_edited_at_only_for_the_sender() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.add(&chat, &alice, &bob).await;
    let m = s.say(&chat, &bob, "draft").await;
    let path = format!("/v1/chats/{chat}/messages/{}", m["id"].as_str().unwrap());
    let edited = s.patch(&path).by(&bob).json(json!({"text": "final"})).send().await.expect(200);
    assert_eq!((edited["text"].as_str(), edited["seq"].clone()), (Some("final"), m["seq"].clone()));
    assert!(edited["edited_at"].is_string());
    s.patch(&path).by(&alice).json(json!({"text": "hijack"})).send().await.expect_error(403, "forbidden");
    let e = s.patch(&path).by(&bob).json(json!({"text": "  "})).send().await.expect_error(400, "validation_failed");
    assert_eq!(e["field"], "text");
}

#[tokio::test]
async fn deletion_keeps_the_seq_with_empty_text_and_blocks_edits() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.say(&chat, &alice, "one").await;
    let two = s.say(&chat, &alice, "two").await;
    s.say(&chat, &alice, "three").await;
    let path = format!("/v1/chats/{chat}/messages/{}", two["id"].as_str().unwrap());
    s.delete(&path).by(&alice).send().await.expect(204);
    s.delete(&path).by(&alice).send().await.expect(204);
    let history = s.get(&format!("/v1/chats/{chat}/messages")).by(&alice).send().await.expect(200);
    assert_eq!(crate::harness::seqs(&history), [1, 2, 3]);
    let tomb = &history["messages"][1];
    assert_eq!((tomb["deleted"].as_bool(), tomb["text"].as_str()), (Some(true), Some("")));
    s.patch(&path).by(&alice).json(json!({"text": "back"})).send().await.expect_error(400, "invalid_request");
    let chat_now = s.get(&format!("/v1/chats/{chat}")).by(&alice).send().await.expect(200);
    assert_eq!(chat_now["last_seq"], 3);
    assert_eq!(chat_now["last_event_seq"], 4, "three sends and one deletion");
}

#[tokio::test]
async fn a_non_member_of_a_private_chat_gets_404_for_every_message_call() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let eve = s.register("eve").await;
    let chat = s.group(&alice, "Secret", "private").await;
    let m = s.say(&chat, &alice, "hidden").await;
    let mpath = format!("/v1/chats/{chat}/messages/{}", m["id"].as_str().unwrap());
    s.get(&format!("/v1/chats/{chat}/messages")).by(&eve).send().await.expect_error(404, "not_found");
    s.post(&format!("/v1/chats/{chat}/messages"))
        .by(&eve)
        .json(json!({"text": "x"}))
        .send()
        .await
        .expect_error(404, "not_found");
    s.patch(&mpath).by(&eve).json(json!({"text": "x"})).send().await.expect_error(404, "not_found");
    s.delete(&mpath).by(&eve).send().await.expect_error(404, "not_found");
    let e = s.get(&format!("/v1/chats/{chat}")).by(&eve).send().await.expect_error(404, "not_found");
    assert!(!e.to_string().contains("Secret"), "nothing about the chat leaks");
}
