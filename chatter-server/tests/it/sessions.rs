//! `/v1/sessions`: login, listing, logout, revocation, cookies.

use crate::harness::Server;
use serde_json::json;
use std::time::Instant;

#[tokio::test]
async fn wrong_password_and_unknown_user_give_the_same_401() {
    let s = Server::start().await;
    s.register("alice").await;
    // Warm up both paths once.
    for _ in 0..2 {
        s.post("/v1/sessions").json(json!({"username": "alice", "password": "x"})).send().await;
    }
    let t = Instant::now();
    let wrong = s.post("/v1/sessions").json(json!({"username": "alice", "password": "wrong password"})).send().await;
    let wrong_time = t.elapsed();
    let t = Instant::now();
    let unknown = s.post("/v1/sessions").json(json!({"username": "nobody", "password": "wrong password"})).send().await;
    let unknown_time = t.elapsed();
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body, "the same answer for both");
    assert_eq!(wrong.body["error"]["code"], "unauthenticated");
    // Both paths hash: neither is an order of magnitude faster (a loose bound, as times
    // on shared machines are noisy; the benchmark is not here).
    let (a, b) = (wrong_time.as_secs_f64(), unknown_time.as_secs_f64());
    assert!(a.max(b) / a.min(b) < 10.0, "wrong {wrong_time:?} vs unknown {unknown_time:?}");
}

#[tokio::test]
async fn login_creates_a_session_listed_with_current_flag() {
    let s = Server::start().await;
    let u = s.register("alice").await;
    let second = s
        .post("/v1/sessions")
        .json(json!({"username": "ALICE", "password": "password-alice", "device_name": "phone"}))
        .send()
        .await
        .expect(201);
    assert_eq!(second["user"]["id"], u.id.as_str());
    let list = s.get("/v1/sessions").by(&u).send().await.expect(200);
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[1]["current"], false);
    assert_eq!(sessions[1]["device_name"], "phone");
    assert_eq!(sessions[1]["id"], second["session_id"]);
    assert!(sessions[0]["last_seen_at"].is_string() && sessions[0]["created_at"].is_string());
}

#[tokio::test]
async fn logout_makes_the_token_fail_at_once() {
    let s = Server::start().await;
    let u = s.register("alice").await;
    s.delete("/v1/sessions/current").by(&u).send().await.expect(204);
    s.get("/v1/users/me").by(&u).send().await.expect_error(401, "unauthenticated");
    s.delete("/v1/sessions/current").by(&u).send().await.expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn revoking_a_session_ends_it_and_another_users_session_is_404() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let phone = s
        .post("/v1/sessions")
        .json(json!({"username": "alice", "password": "password-alice"}))
        .send()
        .await
        .expect(201);
    let phone_id = phone["session_id"].as_str().unwrap();
    s.delete(&format!("/v1/sessions/{phone_id}")).by(&bob).send().await.expect_error(404, "not_found");
    s.get("/v1/users/me").token(phone["token"].as_str().unwrap()).send().await.expect(200);
    s.delete(&format!("/v1/sessions/{phone_id}")).by(&alice).send().await.expect(204);
    s.get("/v1/users/me").token(phone["token"].as_str().unwrap()).send().await.expect_error(401, "unauthenticated");
    s.get("/v1/users/me").by(&alice).send().await.expect(200);
}

#[tokio::test]
async fn missing_malformed_or_unknown_tokens_are_401() {
    let s = Server::start().await;
    s.get("/v1/users/me").send().await.expect_error(401, "unauthenticated");
    s.get("/v1/users/me").token("not-a-token").send().await.expect_error(401, "unauthenticated");
    s.get("/v1/users/me").header("authorization", "Basic abc").send().await.expect_error(401, "unauthenticated");
    s.get("/v1/chats").header("cookie", "chatter_session=bogus").send().await.expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn cookie_login_authenticates_and_writes_need_an_accepted_origin() {
    let s = Server::start().await;
    let r = s
        .post("/v1/users")
        .json(json!({"username": "alice", "password": "password-alice", "cookie": true}))
        .send()
        .await;
    assert_eq!(r.status, 201);
    let set_cookie = r.headers.get("set-cookie").expect("cookie set").to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("chatter_session="));
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attr), "{attr} in {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "no Secure without TLS");
    let behind_tls = s
        .post("/v1/sessions")
        .header("x-forwarded-proto", "https")
        .json(json!({"username": "alice", "password": "password-alice", "cookie": true}))
        .send()
        .await;
    assert!(behind_tls.headers.get("set-cookie").unwrap().to_str().unwrap().contains("; Secure"));
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    s.get("/v1/users/me").header("cookie", &cookie).send().await.expect(200);
    let host = s.base.trim_start_matches("http://").to_owned();
    let create = json!({"kind": "group", "title": "T", "visibility": "public"});
    s.post("/v1/chats").header("cookie", &cookie).json(create.clone()).send().await.expect_error(403, "forbidden");
    s.post("/v1/chats")
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .json(create.clone())
        .send()
        .await
        .expect_error(403, "forbidden");
    s.post("/v1/chats")
        .header("cookie", &cookie)
        .header("origin", &format!("http://{host}"))
        .json(create)
        .send()
        .await
        .expect(201);
    let out = s
        .delete("/v1/sessions/current")
        .header("cookie", &cookie)
        .header("origin", &format!("http://{host}"))
        .send()
        .await;
    assert_eq!(out.status, 204);
    assert!(out.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    s.get("/v1/users/me").header("cookie", &cookie).send().await.expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn a_flood_of_logins_gets_429_with_retry_after_and_others_still_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::harness::test_config(dir.path());
    config.accounts.hash_workers = Some(1);
    config.accounts.hash_queue = 1;
    let s = Server::start_with(config).await;
    let u = s.register("alice").await;
    let chat = s.group(&u, "Team", "public").await;
    let logins =
        (0..12).map(|_| s.post("/v1/sessions").json(json!({"username": "alice", "password": "password-alice"})).send());
    let (results, history) = tokio::join!(futures::future::join_all(logins), async {
        s.get(&format!("/v1/chats/{chat}/messages")).by(&u).send().await
    });
    assert_eq!(history.status, 200, "other requests are served during the flood");
    let limited: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    assert!(!limited.is_empty(), "some logins are turned away");
    assert!(results.iter().all(|r| r.status == 201 || r.status == 429));
    for r in limited {
        assert_eq!(r.body["error"]["code"], "rate_limited");
        assert!(r.headers.get("retry-after").is_some());
    }
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_that_username_for_a_while() {
    let s = Server::start().await;
    s.register("alice").await;
    s.register("bob").await;
    let attempt = |name: &str, password: &str| {
        s.post("/v1/sessions").json(json!({"username": name, "password": password})).send()
    };
    for _ in 0..10 {
        attempt("alice", "wrong password").await.expect_error(401, "unauthenticated");
    }
    let locked = attempt("alice", "password-alice").await;
    assert!(locked.headers.get("retry-after").is_some());
    locked.expect_error(429, "rate_limited");
    attempt("ALICE", "wrong password").await.expect_error(429, "rate_limited");
    attempt("bob", "password-bob").await.expect(201);
}

#[tokio::test]
async fn an_allowed_origin_gets_cors_with_credentials_and_others_get_nothing() {
    let app = "https://app.example.org";
    let s = Server::start_adjusted(|c| c.http.allowed_origins = vec![format!("{app}/")]).await;
    let preflight = |origin: &'static str| {
        s.call(reqwest::Method::OPTIONS, "/v1/chats")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let allowed = preflight(app).await;
    assert!(allowed.status < 300, "preflight answered: {}", allowed.status);
    let h = |name: &str| allowed.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(h("access-control-allow-origin").as_deref(), Some(app));
    assert_eq!(h("access-control-allow-credentials").as_deref(), Some("true"));
    let headers = h("access-control-allow-headers").unwrap_or_default().to_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");
    assert!(h("access-control-allow-methods").unwrap_or_default().contains("POST"));

    let foreign = preflight("https://evil.example").await;
    assert!(foreign.headers.get("access-control-allow-origin").is_none(), "no CORS for a foreign origin");

    // A real cross-origin call from the app: its answer names the origin and exposes
    // what a client reads (Retry-After, the request id).
    let r = s.get("/healthz").header("origin", app).send().await;
    assert_eq!(r.headers.get("access-control-allow-origin").unwrap(), app);
    let exposed = r.headers.get("access-control-expose-headers").unwrap().to_str().unwrap().to_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("x-request-id"), "{exposed}");
}

#[tokio::test]
async fn without_allowed_origins_no_cors_header_is_sent() {
    let s = Server::start().await;
    let r = s.get("/healthz").header("origin", "https://app.example.org").send().await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
}
