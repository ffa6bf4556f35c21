//! `/v1/chats`: creation, direct chats, reading, updating, joining, leaving, the list.

use crate::harness::Server;
use serde_json::{Value, json};

#[tokio::test]
async fn group_creation_answers_the_chat_with_members_added() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s
        .post("/v1/chats")
        .by(&alice)
        .json(json!({"kind": "group", "title": "  Team  ", "visibility": "private", "members": [bob.id]}))
        .send()
        .await
        .expect(201);
    assert_eq!(chat["kind"], "group");
    assert_eq!(chat["title"], "Team");
    assert_eq!(chat["visibility"], "private");
    assert_eq!(chat["owner_id"], alice.id.as_str());
    assert_eq!(
        (chat["member_count"].as_u64(), chat["last_seq"].as_u64(), chat["last_event_seq"].as_u64()),
        (Some(2), Some(0), Some(0))
    );
    let id = chat["id"].as_str().unwrap();
    let seen = s.get(&format!("/v1/chats/{id}")).by(&bob).send().await.expect(200);
    assert_eq!(seen["role"], "member");
    let e = s
        .post("/v1/chats")
        .by(&alice)
        .json(json!({"kind": "group", "title": "X", "visibility": "public", "members": ["nobody"]}))
        .send()
        .await
        .expect_error(404, "not_found");
    assert_eq!(e["field"], "members");
    s.post("/v1/chats")
        .by(&alice)
        .json(json!({"kind": "group", "title": "X", "visibility": "secret"}))
        .send()
        .await
        .expect_error(400, "invalid_request");
    s.post("/v1/chats")
        .by(&alice)
        .json(json!({"kind": "channel", "title": "X"}))
        .send()
        .await
        .expect_error(400, "invalid_request");
}

#[tokio::test]
async fn direct_chat_is_unique_per_pair_and_has_no_title_or_owner() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let first =
        s.post("/v1/chats").by(&alice).json(json!({"kind": "direct", "members": [bob.id]})).send().await.expect(201);
    assert_eq!((first["title"].clone(), first["owner_id"].clone()), (Value::Null, Value::Null));
    assert_eq!((first["visibility"].as_str(), first["member_count"].as_u64()), (Some("private"), Some(2)));
    let again =
        s.post("/v1/chats").by(&bob).json(json!({"kind": "direct", "members": [alice.id]})).send().await.expect(200);
    assert_eq!(again["id"], first["id"]);
    let e = s
        .post("/v1/chats")
        .by(&alice)
        .json(json!({"kind": "direct", "members": [alice.id]}))
        .send()
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(e["field"], "members");
    s.post("/v1/chats")
        .by(&alice)
        .json(json!({"kind": "direct", "members": []}))
        .send()
        .await
        .expect_error(400, "validation_failed");
    s.post("/v1/chats")
        .by(&alice)
        .json(json!({"kind": "direct", "members": [bob.id], "title": "no"}))
        .send()
        .await
        .expect_error(400, "invalid_request");
}

#[tokio::test]
async fn get_chat_is_a_summary_for_members_and_the_chat_for_visitors() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Open", "public").await;
    s.say(&chat, &alice, "hello").await;
    let mine = s.get(&format!("/v1/chats/{chat}")).by(&alice).send().await.expect(200);
    assert_eq!(
        (mine["role"].as_str(), mine["unread_count"].as_u64(), mine["read_seq"].as_u64()),
        (Some("owner"), Some(0), Some(0))
    );
    assert_eq!(mine["last_message"]["text"], "hello");
    let theirs = s.get(&format!("/v1/chats/{chat}")).by(&bob).send().await.expect(200);
    assert_eq!(theirs["title"], "Open");
    assert!(theirs.get("role").is_none() && theirs.get("unread_count").is_none());
    s.get("/v1/chats/nope").by(&bob).send().await.expect_error(404, "not_found");
}

#[tokio::test]
async fn update_renames_and_changes_visibility() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Old", "public").await;
    let updated = s
        .patch(&format!("/v1/chats/{chat}"))
        .by(&alice)
        .json(json!({"title": "New", "visibility": "private"}))
        .send()
        .await
        .expect(200);
    assert_eq!((updated["title"].as_str(), updated["visibility"].as_str()), (Some("New"), Some("private")));
    assert_eq!(updated["last_event_seq"], 1);
    let e = s
        .patch(&format!("/v1/chats/{chat}"))
        .by(&alice)
        .json(json!({"title": ""}))
        .send()
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(e["field"], "title");
}

#[tokio::test]
async fn join_answers_the_newest_page_and_again_is_a_no_op() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Open", "public").await;
    for n in 0..60 {
        s.say(&chat, &alice, &format!("m{n}")).await;
    }
    let joined = s.post(&format!("/v1/chats/{chat}/join")).by(&bob).send().await.expect(200);
    assert_eq!(joined["chat"]["member_count"], 2);
    let seqs = crate::harness::seqs(&joined);
    assert_eq!(seqs, (11..=60).collect::<Vec<_>>(), "the newest page of 50, ascending");
    let again = s.post(&format!("/v1/chats/{chat}/join")).by(&bob).send().await.expect(200);
    assert_eq!(again["chat"]["member_count"], 2);
    assert_eq!(again["chat"]["last_event_seq"], joined["chat"]["last_event_seq"]);
}

#[tokio::test]
async fn owner_leaving_hands_over_and_the_last_one_out_deletes_the_chat() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let carol = s.register("carol").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.add(&chat, &alice, &bob).await;
    s.add(&chat, &alice, &carol).await;
    s.make_admin(&chat, &alice, &carol).await;
    s.post(&format!("/v1/chats/{chat}/leave")).by(&alice).send().await.expect(204);
    let seen = s.get(&format!("/v1/chats/{chat}")).by(&carol).send().await.expect(200);
    assert_eq!((seen["owner_id"].as_str(), seen["role"].as_str()), (Some(carol.id.as_str()), Some("owner")));
    s.get(&format!("/v1/chats/{chat}")).by(&alice).send().await.expect_error(404, "not_found");
    s.post(&format!("/v1/chats/{chat}/leave")).by(&carol).send().await.expect(204);
    let seen = s.get(&format!("/v1/chats/{chat}")).by(&bob).send().await.expect(200);
    assert_eq!(seen["owner_id"], bob.id.as_str(), "no admin left: the oldest member");
    s.post(&format!("/v1/chats/{chat}/leave")).by(&bob).send().await.expect(204);
    s.get(&format!("/v1/chats/{chat}")).by(&bob).send().await.expect_error(404, "not_found");
}

#[tokio::test]
async fn chat_list_is_ordered_by_activity_with_unread_counts_and_read_markers() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let a = s.group(&alice, "A", "public").await;
    let b = s.group(&alice, "B", "public").await;
    let c = s.group(&alice, "C", "public").await;
    for chat in [&a, &b, &c] {
        s.add(chat, &alice, &bob).await;
    }
    for n in 0..3 {
        s.say(&a, &bob, &format!("a{n}")).await;
    }
    s.say(&b, &bob, "b0").await;
    s.say(&a, &alice, "mine").await;
    let list = s.get("/v1/chats").by(&alice).send().await.expect(200);
    let chats = list["chats"].as_array().unwrap();
    let order: Vec<_> = chats.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(order, [a.as_str(), b.as_str(), c.as_str()]);
    let unread: Vec<_> = chats.iter().map(|c| c["unread_count"].as_u64().unwrap()).collect();
    assert_eq!(unread, [3, 1, 0], "own messages are never unread");
    assert_eq!(chats[0]["last_message"]["text"], "mine");
    assert_eq!(chats[0]["role"], "owner");
    s.post(&format!("/v1/chats/{a}/read")).by(&alice).json(json!({"seq": 2})).send().await.expect(204);
    let list = s.get("/v1/chats").by(&alice).send().await.expect(200);
    assert_eq!((list["chats"][0]["read_seq"].as_u64(), list["chats"][0]["unread_count"].as_u64()), (Some(2), Some(1)));
    // The marker never moves back.
    s.post(&format!("/v1/chats/{a}/read")).by(&alice).json(json!({"seq": 1})).send().await.expect(204);
    let one = s.get(&format!("/v1/chats/{a}")).by(&alice).send().await.expect(200);
    assert_eq!(one["read_seq"], 2);
    // A deleted message is not unread.
    let last_b = s.get(&format!("/v1/chats/{b}/messages")).by(&alice).send().await.expect(200);
    let id = last_b["messages"][0]["id"].as_str().unwrap();
    s.delete(&format!("/v1/chats/{b}/messages/{id}")).by(&bob).send().await.expect(204);
    let one = s.get(&format!("/v1/chats/{b}")).by(&alice).send().await.expect(200);
    assert_eq!(one["unread_count"], 0);
    // A marker past the newest message stops at the newest.
    s.post(&format!("/v1/chats/{a}/read")).by(&alice).json(json!({"seq": 99})).send().await.expect(204);
    let chat = s.get(&format!("/v1/chats/{a}")).by(&alice).send().await.expect(200);
    assert_eq!((&chat["read_seq"], &chat["unread_count"]), (&chat["last_seq"], &json!(0)));
}

#[tokio::test]
async fn public_search_finds_public_groups_by_title_only() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    s.group(&alice, "Rust users", "public").await;
    s.group(&alice, "Rust secret", "private").await;
    s.group(&alice, "Cooking", "public").await;
    let found = s.get("/v1/chats/public?q=rust").by(&alice).send().await.expect(200);
    let titles: Vec<_> = found["chats"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Rust users"]);
    let all = s.get("/v1/chats/public").by(&alice).send().await.expect(200);
    assert_eq!(all["chats"].as_array().unwrap().len(), 2);
    assert_eq!(all["next_cursor"], Value::Null);
}
