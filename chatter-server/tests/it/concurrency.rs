//! Concurrent senders over HTTP: seqs stay gap-free and unique.

use crate::harness::Server;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_senders_of_fifty_messages_get_seqs_one_to_a_thousand() {
    let s = Server::start().await;
    let owner = s.register("owner").await;
    let chat = s.group(&owner, "Busy", "public").await;
    let mut senders = Vec::new();
    for n in 0..20 {
        let u = s.register(&format!("sender{n:02}")).await;
        s.post(&format!("/v1/chats/{chat}/join")).by(&u).send().await.expect(200);
        senders.push(u);
    }
    let tasks = senders.iter().map(|u| {
        let (s, chat) = (&s, &chat);
        async move {
            let mut seqs = Vec::new();
            for i in 0..50 {
                let m = s
                    .post(&format!("/v1/chats/{chat}/messages"))
                    .by(u)
                    .json(json!({"text": format!("{} #{i}", u.username), "client_id": format!("{}-{i}", u.username)}))
                    .send()
                    .await
                    .expect(201);
                seqs.push(m["seq"].as_u64().expect("seq"));
            }
            // Each sender's own messages come back in the order sent.
            assert!(seqs.windows(2).all(|w| w[0] < w[1]));
            seqs
        }
    });
    let mut all: Vec<u64> = futures::future::join_all(tasks).await.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (1..=1000).collect::<Vec<_>>());
    let mut read = Vec::new();
    let mut after = 0;
    loop {
        let page = s
            .get(&format!("/v1/chats/{chat}/messages?after_seq={after}&limit=200"))
            .by(&owner)
            .send()
            .await
            .expect(200);
        let seqs = crate::harness::seqs(&page);
        if seqs.is_empty() {
            break;
        }
        after = *seqs.last().unwrap();
        read.extend(seqs);
    }
    assert_eq!(read, (1..=1000).collect::<Vec<_>>());
    let chat_now = s.get(&format!("/v1/chats/{chat}")).by(&owner).send().await.expect(200);
    assert_eq!(chat_now["last_seq"], 1000);
}
