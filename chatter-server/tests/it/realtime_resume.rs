//! Gap-free resume: a client that disconnects while others keep changing the chat gets
//! exactly the events it missed, in order, once, and ends with the server's chat.

use crate::harness::{Server, TestUser};
use crate::ws_client::Ws;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A small deterministic generator (xorshift64*), so each seed replays the same run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What a client rebuilds from events: messages by seq, and the member set.
#[derive(Default, Debug, PartialEq)]
struct Model {
    messages: BTreeMap<u64, (String, bool)>,
    members: BTreeSet<String>,
    title: String,
    last_event_seq: u64,
    seen: Vec<u64>,
}

impl Model {
    fn apply(&mut self, f: &Value) {
        let Some(seq) = f["event_seq"].as_u64() else { return };
        self.seen.push(seq);
        self.last_event_seq = self.last_event_seq.max(seq);
        match f["type"].as_str().unwrap_or_default() {
            "message.created" | "message.edited" => {
                let m = &f["message"];
                let text = m["text"].as_str().unwrap().to_owned();
                self.messages.insert(m["seq"].as_u64().unwrap(), (text, m["deleted"].as_bool().unwrap()));
            }
            "message.deleted" => {
                self.messages.insert(f["seq"].as_u64().unwrap(), (String::new(), true));
            }
            "chat.member_joined" => {
                self.members.insert(f["user"]["id"].as_str().unwrap().to_owned());
            }
            "chat.member_left" => {
                self.members.remove(f["user_id"].as_str().unwrap());
            }
            "chat.updated" => self.title = f["chat"]["title"].as_str().unwrap().to_owned(),
            _ => {}
        }
    }
}

struct Cast {
    alice: TestUser,
    bob: TestUser,
    carol: TestUser,
}

/// One random change to the chat, by alice or bob, over HTTP.
async fn random_op(s: &Server, chat: &str, cast: &Cast, rng: &mut Rng, n: u64) {
    let sender = if rng.below(2) == 0 { &cast.alice } else { &cast.bob };
    match rng.below(10) {
        0..=4 => {
            s.say(chat, sender, &format!("message {n}")).await;
        }
        5 | 6 => {
            let history = s.get(&format!("/v1/chats/{chat}/messages?limit=20")).by(sender).send().await.expect(200);
            let mine: Vec<&Value> = history["messages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["sender_id"] == sender.id.as_str() && m["deleted"] == false)
                .collect();
            if let Some(m) = mine.get(rng.below(mine.len().max(1) as u64) as usize) {
                let path = format!("/v1/chats/{chat}/messages/{}", m["id"].as_str().unwrap());
                if rng.below(2) == 0 {
                    s.patch(&path).by(sender).json(json!({"text": format!("edit {n}")})).send().await.expect(200);
                } else {
                    s.delete(&path).by(sender).send().await.expect(204);
                }
            }
        }
        7 | 8 => {
            let member = s.get(&format!("/v1/chats/{chat}/members")).by(&cast.alice).send().await.expect(200);
            let in_chat =
                member["members"].as_array().unwrap().iter().any(|m| m["user"]["id"] == cast.carol.id.as_str());
            if in_chat {
                s.delete(&format!("/v1/chats/{chat}/members/{}", cast.carol.id))
                    .by(&cast.alice)
                    .send()
                    .await
                    .expect(204);
            } else {
                s.add(chat, &cast.alice, &cast.carol).await;
            }
        }
        _ => {
            s.patch(&format!("/v1/chats/{chat}"))
                .by(&cast.alice)
                .json(json!({"title": format!("title {n}")}))
                .send()
                .await
                .expect(200);
        }
    }
}

/// Reads live frames into the model until `count` chat events arrived or `wait` passed.
async fn read_events(ws: &mut Ws, model: &mut Model, count: u64, wait: Duration) {
    let mut got = 0;
    while got < count {
        let Some(f) = ws.next_within(wait).await else { return };
        if f.get("event_seq").is_some() {
            got += 1;
        }
        model.apply(&f);
    }
}

async fn server_model(
    s: &Server,
    chat: &str,
    user: &TestUser,
) -> (BTreeMap<u64, (String, bool)>, BTreeSet<String>, String, u64) {
    let mut messages = BTreeMap::new();
    let mut after = 0;
    loop {
        let page =
            s.get(&format!("/v1/chats/{chat}/messages?after_seq={after}&limit=200")).by(user).send().await.expect(200);
        let list = page["messages"].as_array().unwrap().clone();
        if list.is_empty() {
            break;
        }
        for m in &list {
            messages.insert(
                m["seq"].as_u64().unwrap(),
                (m["text"].as_str().unwrap().to_owned(), m["deleted"].as_bool().unwrap()),
            );
        }
        after = list.last().unwrap()["seq"].as_u64().unwrap();
    }
    let members = s.get(&format!("/v1/chats/{chat}/members?limit=200")).by(user).send().await.expect(200);
    let members =
        members["members"].as_array().unwrap().iter().map(|m| m["user"]["id"].as_str().unwrap().to_owned()).collect();
    let summary = s.get(&format!("/v1/chats/{chat}")).by(user).send().await.expect(200);
    (messages, members, summary["title"].as_str().unwrap().to_owned(), summary["last_event_seq"].as_u64().unwrap())
}

async fn resume_run(seed: u64) {
    let s = Server::start().await;
    let cast =
        Cast { alice: s.register("alice").await, bob: s.register("bob").await, carol: s.register("carol").await };
    let watcher = s.register("watcher").await;
    let chat = s.group(&cast.alice, "start", "private").await;
    s.add(&chat, &cast.alice, &cast.bob).await;
    s.add(&chat, &cast.alice, &watcher).await;
    let mut rng = Rng(seed);
    // The watcher starts from the chat as it is now.
    let (messages, members, title, head) = server_model(&s, &chat, &watcher).await;
    let mut model = Model { messages, members, title, last_event_seq: head, seen: Vec::new() };
    let mut ws = Ws::connect(&s, &watcher).await;
    let mut n = 0;
    for _round in 0..4 {
        let ops = 5 + rng.below(25);
        let read_before_drop = rng.below(10);
        let mut op_rng = Rng(rng.next() | 1);
        // Changes go on while the watcher reads, drops its socket, and resumes.
        let ops_task = async {
            for i in 0..ops {
                random_op(&s, &chat, &cast, &mut op_rng, n + i).await;
                if op_rng.below(4) == 0 {
                    tokio::time::sleep(Duration::from_millis(op_rng.below(15))).await;
                }
            }
        };
        let watch_task = async {
            read_events(&mut ws, &mut model, read_before_drop, Duration::from_millis(300)).await;
            drop(std::mem::replace(&mut ws, Ws::connect_quietly(&s, &watcher).await));
            ws.send(json!({"type": "resume", "chats": {chat.clone(): model.last_event_seq}})).await;
            loop {
                let f = ws.next().await;
                if f["type"] == "resumed" {
                    break;
                }
                assert_ne!(f["type"], "chat.reset", "fewer than 1000 events were missed");
                model.apply(&f);
            }
        };
        tokio::join!(ops_task, watch_task);
        n += ops;
    }
    // Catch up with whatever is still in flight.
    let (messages, members, title, head) = server_model(&s, &chat, &watcher).await;
    while model.last_event_seq < head {
        let f = ws.next().await;
        model.apply(&f);
    }
    ws.expect_silence(Duration::from_millis(200)).await;
    let first = model.seen.first().copied().unwrap_or(head + 1);
    assert_eq!(model.seen, (first..=head).collect::<Vec<_>>(), "seed {seed}: every event once, in order");
    assert_eq!(model.messages, messages, "seed {seed}: messages");
    assert_eq!(model.members, members, "seed {seed}: members");
    assert_eq!(model.title, title, "seed {seed}: title");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_disconnects_under_concurrent_changes_rebuilds_the_servers_chat() {
    for seed in [0x9E37_79B9_7F4A_7C15, 42, 7_777_777, 0xDEAD_BEEF, 1_234_567_891] {
        resume_run(seed).await;
    }
}

#[tokio::test]
async fn resume_replays_only_what_is_missing_then_resumed() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Team", "private").await;
    s.add(&chat, &alice, &bob).await;
    for n in 0..5 {
        s.say(&chat, &alice, &format!("m{n}")).await;
    }
    let head =
        s.get(&format!("/v1/chats/{chat}")).by(&bob).send().await.expect(200)["last_event_seq"].as_u64().unwrap();
    let mut b = Ws::connect(&s, &bob).await;
    b.send(json!({"type": "resume", "chats": {chat.clone(): head - 3, "not-a-chat": 0}})).await;
    let mut seqs = Vec::new();
    let mut removed = None;
    loop {
        let f = b.next().await;
        match f["type"].as_str().unwrap() {
            "resumed" => break,
            "chat.removed" => removed = Some(f["chat_id"].clone()),
            _ => seqs.push(f["event_seq"].as_u64().unwrap()),
        }
    }
    assert_eq!(seqs, [head - 2, head - 1, head]);
    assert_eq!(removed, Some(json!("not-a-chat")), "a chat the user is not in is reported removed");
    s.say(&chat, &alice, "live").await;
    assert_eq!(b.next().await["event_seq"], head + 1);
    // Resuming again from the present replays nothing.
    b.send(json!({"type": "resume", "chats": {chat.clone(): head + 1}})).await;
    assert_eq!(b.next().await["type"], "resumed");
}

#[tokio::test]
async fn a_resume_over_1000_events_gets_chat_reset() {
    let s = Server::start().await;
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let chat = s.group(&alice, "Busy", "private").await;
    s.add(&chat, &alice, &bob).await;
    let start =
        s.get(&format!("/v1/chats/{chat}")).by(&bob).send().await.expect(200)["last_event_seq"].as_u64().unwrap();
    let mut a = Ws::connect(&s, &alice).await;
    for n in 0..1005 {
        a.send(json!({"type": "send", "ref": n.to_string(), "chat_id": chat, "text": format!("m{n}"), "client_id": format!("c{n}")})).await;
    }
    for _ in 0..1005 {
        a.next_of("message.created").await;
    }
    let mut b = Ws::connect(&s, &bob).await;
    b.send(json!({"type": "resume", "chats": {chat.clone(): start}})).await;
    let reset = b.next().await;
    assert_eq!(reset["type"], "chat.reset");
    assert_eq!(
        (reset["chat_id"].as_str(), reset["last_event_seq"].as_u64()),
        (Some(chat.as_str()), Some(start + 1005))
    );
    assert_eq!(b.next().await["type"], "resumed");
    s.say(&chat, &alice, "after the reset").await;
    assert_eq!(b.next().await["event_seq"], start + 1006);
}
