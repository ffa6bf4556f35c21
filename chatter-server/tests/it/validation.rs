//! Validation and malformed input: clear 400s, 413 over the body limit.

use crate::harness::Server;
use serde_json::json;

#[tokio::test]
async fn bad_usernames_and_passwords_are_rejected_with_the_field() {
    let s = Server::start().await;
    let long_name = "a".repeat(33);
    let long_password = "p".repeat(1025);
    for (username, password, field) in [
        ("ab", "long enough", "username"),
        (long_name.as_str(), "long enough", "username"),
        ("has space", "long enough", "username"),
        ("ünïcode", "long enough", "username"),
        ("good_name", "short", "password"),
        ("good_name", long_password.as_str(), "password"),
        ("good_name", "with\0nul", "password"),
    ] {
        let e = s
            .post("/v1/users")
            .json(json!({"username": username, "password": password}))
            .send()
            .await
            .expect_error(400, "validation_failed");
        assert_eq!(e["field"], field, "{username:?} / {password:?}");
    }
    s.post("/v1/users").json(json!({"username": "x.y-z_1", "password": "12345678"})).send().await.expect(201);
}

#[tokio::test]
async fn message_text_lengths_count_scalar_values_and_reject_controls() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    let path = format!("/v1/chats/{chat}/messages");
    let (long, long_emoji) = ("x".repeat(4001), "😀".repeat(4001));
    for text in ["", "   \n ", long.as_str(), long_emoji.as_str(), "bell\u{7}", "nul\0byte", "esc\u{1b}[31m"] {
        let e =
            s.post(&path).by(&alice).json(json!({"text": text})).send().await.expect_error(400, "validation_failed");
        assert_eq!(e["field"], "text");
    }
    // 4000 four-byte characters are 16000 bytes but 4000 scalar values: accepted.
    let m = s.post(&path).by(&alice).json(json!({"text": "😀".repeat(4000)})).send().await.expect(201);
    assert_eq!(m["text"].as_str().unwrap().chars().count(), 4000);
}

#[tokio::test]
async fn display_names_titles_bios_and_client_ids_are_checked() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    for (body, field) in [
        (json!({"display_name": ""}), "display_name"),
        (json!({"display_name": "é".repeat(65)}), "display_name"),
        (json!({"display_name": "two\nlines"}), "display_name"),
        (json!({"bio": "b".repeat(501)}), "bio"),
        (json!({"avatar_url": "ftp://x.example/a"}), "avatar_url"),
        (json!({"avatar_url": format!("https://x.example/{}", "a".repeat(2040))}), "avatar_url"),
    ] {
        let e =
            s.patch("/v1/users/me").by(&alice).json(body.clone()).send().await.expect_error(400, "validation_failed");
        assert_eq!(e["field"], field, "{body}");
    }
    let ok = s.patch("/v1/users/me").by(&alice).json(json!({"display_name": "é".repeat(64)})).send().await.expect(200);
    assert_eq!(ok["display_name"].as_str().unwrap().chars().count(), 64);
    let e = s
        .post("/v1/chats")
        .by(&alice)
        .json(json!({"kind": "group", "title": "t".repeat(101), "visibility": "public"}))
        .send()
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(e["field"], "title");
    let chat = s.group(&alice, "Team", "private").await;
    let e = s
        .post(&format!("/v1/chats/{chat}/messages"))
        .by(&alice)
        .json(json!({"text": "x", "client_id": "k".repeat(65)}))
        .send()
        .await
        .expect_error(400, "validation_failed");
    assert_eq!(e["field"], "client_id");
}

#[tokio::test]
async fn malformed_json_unknown_and_missing_fields_are_invalid_requests() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    s.post("/v1/users").raw_body("application/json", "{not json").send().await.expect_error(400, "invalid_request");
    s.post("/v1/users").raw_body("text/plain", "{}").send().await.expect_error(400, "invalid_request");
    s.post("/v1/users").json(json!({"username": "bob"})).send().await.expect_error(400, "invalid_request");
    s.post("/v1/users")
        .json(json!({"username": "bob", "password": "12345678", "admin": true}))
        .send()
        .await
        .expect_error(400, "invalid_request");
    s.patch("/v1/users/me")
        .by(&alice)
        .json(json!({"username": "new"}))
        .send()
        .await
        .expect_error(400, "invalid_request");
    s.get("/v1/nothing-here").send().await.expect_error(404, "not_found");
    s.get("/v1/chats/%FF").by(&alice).send().await.expect_error(400, "invalid_request");
    let r = s.call(reqwest::Method::PUT, "/v1/users/me").by(&alice).send().await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["error"]["code"], "invalid_request");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_nothing_is_stored() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    let big = format!("{{\"text\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    s.post(&format!("/v1/chats/{chat}/messages"))
        .by(&alice)
        .raw_body("application/json", big)
        .send()
        .await
        .expect_error(413, "payload_too_large");
    let history = s.get(&format!("/v1/chats/{chat}/messages")).by(&alice).send().await.expect(200);
    assert_eq!(history["messages"], json!([]));
}

#[tokio::test]
async fn responses_carry_a_request_id_and_echo_a_given_one() {
    let s = Server::start().await;
    let r = s.get("/healthz").send().await;
    assert!(r.headers.get("x-request-id").is_some());
    let r = s.get("/healthz").header("x-request-id", "abc123").send().await;
    assert_eq!(r.headers.get("x-request-id").unwrap(), "abc123");
    s.get("/readyz").send().await.expect(200);
    s.get("/healthz").send().await.expect(200);
}

#[tokio::test]
async fn null_where_the_reference_says_string_is_a_400_and_changes_nothing() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    for (method, path, body) in [
        ("PATCH", "/v1/users/me".to_owned(), json!({"display_name": null})),
        ("PATCH", "/v1/users/me".to_owned(), json!({"bio": "kept", "avatar_url": null})),
        ("PATCH", format!("/v1/chats/{chat}"), json!({"visibility": null})),
        ("PATCH", format!("/v1/chats/{chat}"), json!({"title": null})),
        ("POST", format!("/v1/chats/{chat}/messages"), json!({"text": "hi", "reply_to": null})),
        ("POST", format!("/v1/chats/{chat}/messages"), json!({"text": "hi", "client_id": null})),
        ("POST", "/v1/users".to_owned(), json!({"username": "bob", "password": "12345678", "display_name": null})),
        (
            "POST",
            "/v1/chats".to_owned(),
            json!({"kind": "group", "title": "T", "visibility": "public", "members": null}),
        ),
        ("PATCH", "/v1/users/me".to_owned(), json!([])),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = s.call(method, &path).by(&alice).json(body.clone()).send().await;
        r.expect_error(400, "invalid_request");
    }
    let me = s.get("/v1/users/me").by(&alice).send().await.expect(200);
    assert_eq!((&me["display_name"], &me["bio"]), (&json!("alice"), &json!("")), "nothing changed");
    let history = s.get(&format!("/v1/chats/{chat}/messages")).by(&alice).send().await.expect(200);
    assert_eq!(history["messages"], json!([]), "nothing was sent");
    s.post("/v1/sessions")
        .json(json!({"username": "bob", "password": "12345678"}))
        .send()
        .await
        .expect_error(401, "unauthenticated");
}
