//! What the sync service does after time away: chats added, chats lost, chats too busy
//! to replay.

use crate::harness::{Server, user, wait_until};
use chatter_sdk::model::Visibility;
use chatter_sdk::{DisconnectReason, SyncState};
use std::collections::BTreeSet;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_time_away_new_chats_appear_lost_ones_go_and_busy_ones_reset() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    let dave = user(&server.url(), "dave").await;
    let dave_id = dave.user_id().expect("id");
    let busy = alice.create_group("Busy", Visibility::Private, std::slice::from_ref(&dave_id)).await.expect("create");
    let doomed =
        alice.create_group("Doomed", Visibility::Private, std::slice::from_ref(&dave_id)).await.expect("create");
    dave.start_sync();
    wait_until("dave has both chats", LIMIT, || dave.chat_list().items().len() == 2).await;
    let timeline = dave.chat(&busy.id).timeline().await.expect("timeline");
    let (_, mut list_changes) = dave.chat_list().subscribe();

    dave.stop_sync();
    let mut state = dave.sync_state();
    wait_until("dave is offline", LIMIT, || {
        state.next_now() == SyncState::Disconnected { reason: DisconnectReason::Stopped }
    })
    .await;
    let fresh = alice.create_group("Fresh", Visibility::Private, std::slice::from_ref(&dave_id)).await.expect("create");
    alice.chat(&doomed.id).kick(&dave_id).await.expect("kick");
    alice.start_sync();
    let alices = alice.chat(&busy.id).timeline().await.expect("timeline");
    for i in 1..=1050 {
        alices.send(format!("busy {i}")).await.expect("send");
    }
    wait_until("alice's 1,050 are stored", Duration::from_secs(120), || alice.queued_sends().is_empty()).await;

    dave.start_sync();
    let ids = || dave.chat_list().items().iter().map(|c| c.chat.id.clone()).collect::<BTreeSet<_>>();
    wait_until("the list has Busy and Fresh only", LIMIT, || {
        ids() == BTreeSet::from([busy.id.clone(), fresh.id.clone()])
    })
    .await;
    wait_until("the busy timeline ends at the newest message", LIMIT, || {
        timeline.items().last().is_some_and(|i| i.text == "busy 1050")
    })
    .await;
    let seqs: Vec<u64> = timeline.items().iter().filter_map(|i| i.seq).collect();
    assert!(
        seqs.len() <= 60,
        "more than 1,000 missed events: a reset to the newest page, not a replay ({})",
        seqs.len()
    );
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "no hole in what is shown");
    assert_eq!(seqs.last(), Some(&1050));
    while !timeline.paginate_backwards(200).await.expect("page") {}
    assert_eq!(timeline.items().iter().filter_map(|i| i.seq).collect::<Vec<_>>(), (1..=1050).collect::<Vec<_>>());
    let item = dave.chat_list().items().iter().find(|c| c.chat.id == busy.id).cloned().expect("busy");
    assert_eq!(item.last_message.map(|m| m.text), Some("busy 1050".to_owned()));
    assert_eq!(item.unread_count, 1050);
    // The list told its subscribers about every change.
    let mut changes = 0;
    while futures::FutureExt::now_or_never(futures::StreamExt::next(&mut list_changes)).flatten().is_some() {
        changes += 1;
    }
    assert!(changes > 0);
}
