//! Chats and timelines between two users, live.

use crate::harness::{Server, user, wait_until};
use chatter_sdk::model::Visibility;
use chatter_sdk::{SendState, SyncState, TimelineItem};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

fn texts(items: &[TimelineItem]) -> Vec<String> {
    items.iter().map(|i| i.text.clone()).collect()
}

#[tokio::test]
async fn a_message_sent_by_one_client_shows_in_the_others_timeline_and_chat_list() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    let bob = user(&server.url(), "bob").await;
    alice.start_sync();
    bob.start_sync();
    let mut state = bob.sync_state();
    tokio::time::timeout(LIMIT, async { while state.next().await != Some(SyncState::Connected) {} })
        .await
        .expect("bob connects");

    let chat = alice.create_group("Team", Visibility::Private, &[bob.user_id().expect("id")]).await.expect("create");
    wait_until("bob's list has the chat", LIMIT, || bob.chat_list().items().iter().any(|c| c.chat.id == chat.id)).await;
    let bobs = bob.chat(&chat.id).timeline().await.expect("timeline");
    let alices = alice.chat(&chat.id).timeline().await.expect("timeline");

    let client_id = alices.send("hello bob").await.expect("send");
    let echo = alices.items().into_iter().find(|i| i.client_id.as_deref() == Some(&client_id)).expect("echo");
    assert!(matches!(echo.send_state, SendState::Pending | SendState::Sent));
    wait_until("bob sees it", LIMIT, || texts(&bobs.items().into_iter().collect::<Vec<_>>()) == ["hello bob"]).await;
    wait_until("alice's echo is the stored message", LIMIT, || {
        let items: Vec<_> = alices.items().into_iter().collect();
        items.len() == 1 && items[0].seq == Some(1) && items[0].send_state == SendState::Sent
    })
    .await;
    wait_until("bob's list counts it unread", LIMIT, || {
        bob.chat_list().items().iter().any(|c| c.chat.id == chat.id && c.unread_count == 1)
    })
    .await;
    bobs.mark_read().await.expect("read");
    assert_eq!(bob.chat_list().items().iter().find(|c| c.chat.id == chat.id).map(|c| c.unread_count), Some(0));

    // Edits and deletions reach the other side.
    let stored = bobs.items()[0].id.clone().expect("id");
    alices.edit(&stored, "hello, bob").await.expect("edit");
    wait_until("bob sees the edit", LIMIT, || bobs.items()[0].text == "hello, bob").await;
    alices.delete(&stored).await.expect("delete");
    wait_until("bob sees the deletion", LIMIT, || bobs.items()[0].deleted).await;
    assert!(bobs.items()[0].text.is_empty());

    // Typing shows on the other side.
    let typing = bobs.typing_users();
    alices.send_typing();
    wait_until("bob sees alice typing", LIMIT, || typing.get() == vec![alice.user_id().expect("id")]).await;
}

#[tokio::test]
async fn paginating_backwards_reaches_seq_1_in_order() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    alice.start_sync();
    let chat = alice.create_group("History", Visibility::Public, &[]).await.expect("create");
    let timeline = alice.chat(&chat.id).timeline().await.expect("timeline");
    for i in 1..=130 {
        timeline.send(format!("m{i}")).await.expect("send");
    }
    wait_until("all 130 are stored", Duration::from_secs(30), || {
        alice.queued_sends().is_empty() && timeline.items().len() == 130
    })
    .await;

    let reader = user(&server.url(), "reader").await;
    reader.chat(&chat.id).join().await.expect("join");
    let history = reader.chat(&chat.id).timeline().await.expect("timeline");
    let first = history.items().len();
    assert!(first < 130, "the join gave one page, not everything ({first})");
    let mut pages = 0;
    while !history.paginate_backwards(40).await.expect("page") {
        pages += 1;
        assert!(pages < 10, "pagination ends");
    }
    let seqs: Vec<u64> = history.items().iter().filter_map(|i| i.seq).collect();
    assert_eq!(seqs, (1..=130).collect::<Vec<_>>());
    assert_eq!(history.items()[0].text, "m1");
    assert!(history.paginate_backwards(40).await.expect("page"), "stays at the start");
}
