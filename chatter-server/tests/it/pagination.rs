//! Paging: message windows, limit clamping, cursors over users, chats and members.

use crate::harness::{Server, seqs};
use serde_json::json;

#[tokio::test]
async fn message_windows_are_exactly_as_the_contract_says() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Team", "private").await;
    for n in 1..=250 {
        s.say(&chat, &alice, &format!("mem{n}")).await;
    }
    let get = |q: &str| s.get(&format!("/v1/chats/{chat}/messages{q}")).by(&alice).send();
    assert_eq!(seqs(&get("").await.expect(200)), (201..=250).collect::<Vec<_>>(), "newest 50 by default");
    assert_eq!(seqs(&get("?limit=5").await.expect(200)), [246, 247, 248, 249, 250]);
    assert_eq!(seqs(&get("?before_seq=10&limit=3").await.expect(200)), [7, 8, 9]);
    assert_eq!(seqs(&get("?before_seq=3&limit=10").await.expect(200)), [1, 2]);
    assert_eq!(seqs(&get("?before_seq=1").await.expect(200)), Vec::<u64>::new());
    assert_eq!(seqs(&get("?after_seq=10&limit=3").await.expect(200)), [11, 12, 13]);
    assert_eq!(seqs(&get("?after_seq=248").await.expect(200)), [249, 250]);
    assert_eq!(seqs(&get("?after_seq=250").await.expect(200)), Vec::<u64>::new());
    assert_eq!(seqs(&get("?limit=0").await.expect(200)), [250], "limit clamps up to 1");
    assert_eq!(seqs(&get("?limit=-3").await.expect(200)), [250]);
    assert_eq!(seqs(&get("?limit=1000&after_seq=0").await.expect(200)).len(), 200, "limit clamps down to 200");
    get("?before_seq=5&after_seq=1").await.expect_error(400, "invalid_request");
    get("?before_seq=abc").await.expect_error(400, "invalid_request");
    get("?bogus=1").await.expect_error(400, "invalid_request");
}

#[tokio::test]
async fn cursors_walk_a_list_of_120_users_completely() {
    let s = Server::start().await;
    let mut expected = Vec::new();
    for n in 0..120 {
        let name = format!("user{n:03}");
        let u = s.register(&name).await;
        expected.push(u.username);
    }
    let me = s.register("zz-me").await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("/v1/users?q=user&limit=25&cursor={c}"),
            None => "/v1/users?q=user&limit=25".to_owned(),
        };
        let page = s.get(&q).by(&me).send().await.expect(200);
        pages += 1;
        seen.extend(page["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, expected, "every user once, in order");
    let e = s.get("/v1/users?q=user&cursor=%%%").by(&me).send().await;
    assert_eq!(e.status, 400);
    let e =
        s.get("/v1/users?q=user&cursor=bm90LWEtY3Vyc29y!").by(&me).send().await.expect_error(400, "validation_failed");
    assert_eq!(e["field"], "cursor");
}

#[tokio::test]
async fn chat_list_and_members_page_with_cursors() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let mut chats = Vec::new();
    for n in 0..7 {
        chats.push(s.group(&alice, &format!("G{n}"), "public").await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = s.get(&format!("/v1/chats?limit=3{q}")).by(&alice).send().await.expect(200);
        seen.extend(page["chats"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    chats.reverse();
    assert_eq!(seen, chats, "newest first, each once");
    let chat = &chats[0];
    let mut members = vec![alice.id.clone()];
    for n in 0..5 {
        let u = s.register(&format!("mem{n}")).await;
        s.add(chat, &alice, &u).await;
        members.push(u.id);
    }
    let first = s.get(&format!("/v1/chats/{chat}/members?limit=4")).by(&alice).send().await.expect(200);
    let c = first["next_cursor"].as_str().expect("more members");
    let rest = s.get(&format!("/v1/chats/{chat}/members?limit=4&cursor={c}")).by(&alice).send().await.expect(200);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
    let got: Vec<_> = first["members"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["members"].as_array().unwrap())
        .map(|m| m["user"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, members);
    let _ = json!(null);
}
