//! `/v1/users`: registration, profiles, password change, account deletion, search.

use crate::harness::Server;
use serde_json::json;

#[tokio::test]
async fn register_answers_user_token_and_session_without_secrets() {
    let s = Server::start().await;
    let body = s
        .post("/v1/users")
        .json(json!({"username": "Alice", "password": "correct horse", "display_name": "Alice A.", "device_name": "laptop"}))
        .send()
        .await
        .expect(201);
    let user = &body["user"];
    assert_eq!(user["username"], "alice", "usernames are lowercased");
    assert_eq!(user["display_name"], "Alice A.");
    assert_eq!((user["bio"].as_str(), user["avatar_url"].as_str()), (Some(""), Some("")));
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(body["token"].as_str().unwrap().len() >= 43);
    assert!(body["session_id"].is_string());
    let text = body.to_string();
    assert!(!text.contains("argon2") && !text.contains("password"), "no secret leaks: {text}");
    let me = s.get("/v1/users/me").token(body["token"].as_str().unwrap()).send().await.expect(200);
    assert_eq!(me, *user);
}

#[tokio::test]
async fn display_name_defaults_to_the_username() {
    let s = Server::start().await;
    let u = s.register("bob").await;
    let me = s.get("/v1/users/me").by(&u).send().await.expect(200);
    assert_eq!(me["display_name"], "bob");
}

#[tokio::test]
async fn duplicate_username_is_409_in_any_case() {
    let s = Server::start().await;
    s.register("alice").await;
    s.post("/v1/users")
        .json(json!({"username": "ALICE", "password": "another password"}))
        .send()
        .await
        .expect_error(409, "username_taken");
}

#[tokio::test]
async fn profile_update_changes_given_fields_and_validates() {
    let s = Server::start().await;
    let u = s.register("alice").await;
    let body = s
        .patch("/v1/users/me")
        .by(&u)
        .json(json!({"bio": "hi there", "avatar_url": "https://img.example/a.png"}))
        .send()
        .await
        .expect(200);
    assert_eq!((body["display_name"].as_str(), body["bio"].as_str()), (Some("alice"), Some("hi there")));
    assert_eq!(body["avatar_url"], "https://img.example/a.png");
    let e = s
        .patch("/v1/users/me")
        .by(&u)
        .json(json!({"avatar_url": "http://img.example/a.png"}))
        .send()
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(e["field"], "avatar_url");
    let body = s.patch("/v1/users/me").by(&u).json(json!({"avatar_url": ""})).send().await.expect(200);
    assert_eq!(body["avatar_url"], "");
    let other = s.get(&format!("/v1/users/{}", u.id)).by(&u).send().await.expect(200);
    assert_eq!(other["bio"], "hi there");
    s.get("/v1/users/nobody").by(&u).send().await.expect_error(404, "not_found");
}

#[tokio::test]
async fn password_change_revokes_other_sessions_and_needs_the_old_password() {
    let s = Server::start().await;
    let u = s.register("alice").await;
    let other = s
        .post("/v1/sessions")
        .json(json!({"username": "alice", "password": "password-alice"}))
        .send()
        .await
        .expect(201);
    let other_token = other["token"].as_str().unwrap();
    s.post("/v1/users/me/password")
        .by(&u)
        .json(json!({"old_password": "wrong password", "new_password": "new password 1"}))
        .send()
        .await
        .expect_error(403, "wrong_password");
    let e = s
        .post("/v1/users/me/password")
        .by(&u)
        .json(json!({"old_password": "password-alice", "new_password": "short"}))
        .send()
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(e["field"], "new_password");
    s.post("/v1/users/me/password")
        .by(&u)
        .json(json!({"old_password": "password-alice", "new_password": "new password 1"}))
        .send()
        .await
        .expect(204);
    s.get("/v1/users/me").token(other_token).send().await.expect_error(401, "unauthenticated");
    s.get("/v1/users/me").by(&u).send().await.expect(200);
    s.post("/v1/sessions")
        .json(json!({"username": "alice", "password": "password-alice"}))
        .send()
        .await
        .expect_error(401, "unauthenticated");
    s.post("/v1/sessions").json(json!({"username": "alice", "password": "new password 1"})).send().await.expect(201);
}

#[tokio::test]
async fn account_deletion_revokes_sessions_keeps_messages_and_hides_the_profile() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "public").await;
    s.add(&chat, &alice, &bob).await;
    let dm = s.direct(&alice, &bob).await;
    let said = s.say(&chat, &bob, "from bob").await;
    let second =
        s.post("/v1/sessions").json(json!({"username": "bob", "password": "password-bob"})).send().await.expect(201);
    s.delete("/v1/users/me")
        .by(&bob)
        .json(json!({"password": "nope nope"}))
        .send()
        .await
        .expect_error(403, "wrong_password");
    s.delete("/v1/users/me").by(&bob).json(json!({"password": "password-bob"})).send().await.expect(204);
    s.get("/v1/users/me").by(&bob).send().await.expect_error(401, "unauthenticated");
    s.get("/v1/users/me").token(second["token"].as_str().unwrap()).send().await.expect_error(401, "unauthenticated");
    s.post("/v1/sessions")
        .json(json!({"username": "bob", "password": "password-bob"}))
        .send()
        .await
        .expect_error(401, "unauthenticated");
    let history = s.get(&format!("/v1/chats/{chat}/messages")).by(&alice).send().await.expect(200);
    assert_eq!(history["messages"][0]["id"], said["id"]);
    assert_eq!(history["messages"][0]["text"], "from bob");
    let profile = s.get(&format!("/v1/users/{}", bob.id)).by(&alice).send().await.expect(200);
    assert_eq!((profile["deleted"].as_bool(), profile["display_name"].as_str()), (Some(true), Some("Deleted user")));
    let found = s.get("/v1/users?q=bo").by(&alice).send().await.expect(200);
    assert_eq!(found["users"], json!([]));
    let members = s.get(&format!("/v1/chats/{chat}/members")).by(&alice).send().await.expect(200);
    assert_eq!(members["members"].as_array().unwrap().len(), 1, "the deleted user left the group");
    let direct = s.get(&format!("/v1/chats/{dm}")).by(&alice).send().await.expect(200);
    assert_eq!(direct["member_count"], 2, "a direct chat keeps its two members");
    // The username stays taken.
    s.post("/v1/users")
        .json(json!({"username": "bob", "password": "password-bob"}))
        .send()
        .await
        .expect_error(409, "username_taken");
}

#[tokio::test]
async fn user_search_matches_username_or_display_name_prefix() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    s.register("alfred").await;
    let carol = s.register("carol").await;
    s.patch("/v1/users/me").by(&carol).json(json!({"display_name": "Alina Carol"})).send().await.expect(200);
    let found = s.get("/v1/users?q=AL").by(&alice).send().await.expect(200);
    let names: Vec<_> = found["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["alfred", "alice", "carol"]);
    assert_eq!(found["next_cursor"], serde_json::Value::Null);
    let e = s.get("/v1/users?q=a").by(&alice).send().await.expect_error(400, "validation_failed");
    assert_eq!(e["field"], "q");
    s.get("/v1/users").by(&alice).send().await.expect_error(400, "validation_failed");
    s.get("/v1/users?q=al").send().await.expect_error(401, "unauthenticated");
}
