//! `/v1/chats/{id}/members`: list, add, roles, removal, and loss of access.

use crate::harness::Server;
use serde_json::json;

#[tokio::test]
async fn members_are_listed_with_roles_and_adding_again_is_200() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    let added = s
        .post(&format!("/v1/chats/{chat}/members"))
        .by(&alice)
        .json(json!({"user_id": bob.id}))
        .send()
        .await
        .expect(201);
    assert_eq!((added["user"]["id"].as_str(), added["role"].as_str()), (Some(bob.id.as_str()), Some("member")));
    assert!(added["joined_at"].is_string());
    let again = s
        .post(&format!("/v1/chats/{chat}/members"))
        .by(&alice)
        .json(json!({"user_id": bob.id}))
        .send()
        .await
        .expect(200);
    assert_eq!(again["joined_at"], added["joined_at"]);
    let e = s
        .post(&format!("/v1/chats/{chat}/members"))
        .by(&alice)
        .json(json!({"user_id": "nobody"}))
        .send()
        .await
        .expect_error(404, "not_found");
    assert_eq!(e["field"], "user_id");
    let list = s.get(&format!("/v1/chats/{chat}/members")).by(&bob).send().await.expect(200);
    let roles: Vec<_> = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"]["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("alice", "owner"), ("bob", "member")]);
}

#[tokio::test]
async fn roles_change_only_between_admin_and_member() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.add(&chat, &alice, &bob).await;
    let m = s
        .patch(&format!("/v1/chats/{chat}/members/{}", bob.id))
        .by(&alice)
        .json(json!({"role": "admin"}))
        .send()
        .await
        .expect(200);
    assert_eq!(m["role"], "admin");
    let e = s
        .patch(&format!("/v1/chats/{chat}/members/{}", bob.id))
        .by(&alice)
        .json(json!({"role": "owner"}))
        .send()
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(e["field"], "role");
    s.patch(&format!("/v1/chats/{chat}/members/{}", alice.id))
        .by(&alice)
        .json(json!({"role": "member"}))
        .send()
        .await
        .expect_error(400, "invalid_request");
    s.patch(&format!("/v1/chats/{chat}/members/nobody"))
        .by(&alice)
        .json(json!({"role": "member"}))
        .send()
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn a_removed_member_loses_access_at_once() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.add(&chat, &alice, &bob).await;
    let m = s.say(&chat, &bob, "mine").await;
    s.get(&format!("/v1/chats/{chat}/messages")).by(&bob).send().await.expect(200);
    s.delete(&format!("/v1/chats/{chat}/members/{}", bob.id)).by(&alice).send().await.expect(204);
    for r in [
        s.get(&format!("/v1/chats/{chat}")).by(&bob).send().await,
        s.get(&format!("/v1/chats/{chat}/messages")).by(&bob).send().await,
        s.get(&format!("/v1/chats/{chat}/members")).by(&bob).send().await,
        s.post(&format!("/v1/chats/{chat}/messages")).by(&bob).json(json!({"text": "x"})).send().await,
        s.patch(&format!("/v1/chats/{chat}/messages/{}", m["id"].as_str().unwrap()))
            .by(&bob)
            .json(json!({"text": "x"}))
            .send()
            .await,
    ] {
        r.expect_error(404, "not_found");
    }
    let list = s.get("/v1/chats").by(&bob).send().await.expect(200);
    assert_eq!(list["chats"], json!([]));
    s.delete(&format!("/v1/chats/{chat}/members/{}", bob.id)).by(&alice).send().await.expect_error(404, "not_found");
}

#[tokio::test]
async fn removing_yourself_is_400_use_leave() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.delete(&format!("/v1/chats/{chat}/members/{}", alice.id))
        .by(&alice)
        .send()
        .await
        .expect_error(400, "invalid_request");
}

#[tokio::test]
async fn the_member_list_carries_each_members_read_marker() {
    let s = Server::start().await;
    let ([alice, bob], chat) = s.team(["alice", "bob"]).await;
    for text in ["one", "two", "three"] {
        s.say(&chat, &alice, text).await;
    }
    s.post(&format!("/v1/chats/{chat}/read")).by(&bob).json(json!({"seq": 2})).send().await.expect(204);
    let list = s.get(&format!("/v1/chats/{chat}/members")).by(&alice).send().await.expect(200);
    let marker = |id: &str| {
        list["members"].as_array().unwrap().iter().find(|m| m["user"]["id"] == id).map(|m| m["read_seq"].clone())
    };
    assert_eq!(marker(&bob.id), Some(json!(2)));
    assert!(marker(&alice.id).is_some_and(|m| m.is_u64()));
}
