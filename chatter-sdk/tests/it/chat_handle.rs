//! The chat handle and what the client knows of others: roles and members through the
//! handle, who is online, read receipts, calls running in the user's chats, sends
//! checked before they are queued, and a client driven from threads outside tokio.

use crate::calls_support::join_quiet;
use crate::harness::{Server, builder, password, user, wait_until};
use chatter_sdk::model::{Role, Visibility};
use chatter_sdk::{SdkError, SyncState};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

async fn connected(client: &chatter_sdk::Client) {
    client.start_sync();
    let mut state = client.sync_state();
    tokio::time::timeout(LIMIT, async { while state.next().await != Some(SyncState::Connected) {} })
        .await
        .expect("connects");
}

#[tokio::test]
async fn the_chat_handle_manages_members_and_roles() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    let bob = user(&server.url(), "bob").await;
    let group = alice.create_group("Team", Visibility::Public, &[]).await.expect("create");
    let team = alice.chat(&group.id);
    let bob_id = bob.user_id().expect("id");
    team.invite(&bob_id).await.expect("invite");
    assert_eq!(team.set_role(&bob_id, Role::Admin).await.expect("role").role, Role::Admin);
    let refused = team.set_role(&bob_id, Role::Owner).await.expect_err("ownership is not given");
    assert!(matches!(refused, SdkError::Validation { field: Some(ref f), .. } if f == "role"), "{refused:?}");
    let members: Vec<_> =
        team.members().await.expect("members").into_iter().map(|m| (m.user.username, m.role)).collect();
    assert_eq!(members, [("alice".to_owned(), Role::Owner), ("bob".to_owned(), Role::Admin)]);
    team.update(Some("Team two"), None).await.expect("rename");
    assert!(matches!(bob.chat(&group.id).info().await.expect("info"), chatter_sdk::protocol::ChatView::Member(_)));
    team.kick(&bob_id).await.expect("kick");
    assert_eq!(team.members().await.expect("members").len(), 1);
    // Bob joins again by himself (a public group), then leaves.
    bob.chat(&group.id).join().await.expect("join");
    assert!(bob.chat(&group.id).cached().is_some(), "the join put it in bob's list");
    bob.chat(&group.id).leave().await.expect("leave");
    assert!(bob.chat(&group.id).cached().is_none());
}

#[tokio::test]
async fn a_send_the_server_would_refuse_is_never_queued() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    let chat = alice.create_group("Team", Visibility::Private, &[]).await.expect("create");
    let timeline = alice.chat(&chat.id).timeline().await.expect("timeline");
    for text in ["   ".to_owned(), "x".repeat(4001), "bell\u{7}".to_owned()] {
        let e = timeline.send(text).await.expect_err("refused");
        assert!(matches!(e, SdkError::Validation { field: Some(ref f), .. } if f == "text"), "{e:?}");
    }
    assert!(alice.queued_sends().is_empty() && timeline.items().is_empty());
}

#[tokio::test]
async fn presence_receipts_and_running_calls_are_observable() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    let bob = user(&server.url(), "bob").await;
    let bob_id = bob.user_id().expect("id");
    let chat = alice.create_direct(&bob_id).await.expect("direct chat");
    // Bob is online before alice connects: she learns it at once, not at his next change.
    connected(&bob).await;
    let online = alice.online_users();
    connected(&alice).await;
    wait_until("alice sees bob online", LIMIT, || online.get().contains(&bob_id)).await;

    let alices = alice.chat(&chat.id).timeline().await.expect("timeline");
    alices.send("are you there?").await.expect("send");
    let receipts = alice.chat(&chat.id).read_receipts();
    wait_until("bob's list has the message", LIMIT, || {
        bob.chat(&chat.id).cached().is_some_and(|c| c.chat.last_seq == 1)
    })
    .await;
    bob.chat(&chat.id).mark_read().await.expect("read");
    wait_until("alice sees bob's receipt", LIMIT, || receipts.get().get(&bob_id) == Some(&1)).await;
    // A client that starts later knows the markers from the members list, not only
    // from changes it hears.
    let later = builder(&server.url()).build().await.expect("client");
    later.restore(alice.session().expect("session")).await.expect("restore");
    let markers = later.chat(&chat.id).read_receipts();
    assert!(markers.get().is_empty(), "nothing known before the members are read");
    let members = later.chat(&chat.id).members().await.expect("members");
    assert_eq!(members.iter().find(|m| m.user.id == bob_id).map(|m| m.read_seq), Some(1));
    assert_eq!(markers.get().get(&bob_id), Some(&1), "the list seeded the receipts");

    let calls = bob.running_calls();
    let call = join_quiet(&alice, &chat.id, &[]).await;
    wait_until("bob's client rings", LIMIT, || calls.get().get(&chat.id) == Some(call.call_id())).await;
    call.leave().await.expect("leave");
    wait_until("the ringing stops when the call ends", LIMIT, || calls.get().is_empty()).await;

    bob.stop_sync();
    wait_until("alice sees bob go offline", LIMIT, || !online.get().contains(&bob_id)).await;
}

#[test]
fn a_client_given_a_runtime_syncs_from_threads_outside_it() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(Server::start());
    let url = server.url();
    let client = runtime.block_on(builder(&url).runtime(runtime.handle().clone()).build()).expect("client");
    runtime.block_on(client.register("alice", &password("alice"), None)).expect("register");
    // A plain thread, as a Kotlin or Swift main thread is: no tokio context here.
    let from_thread = client.clone();
    std::thread::spawn(move || from_thread.start_sync()).join().expect("start_sync does not panic");
    let mut state = client.sync_state();
    runtime
        .block_on(async {
            tokio::time::timeout(LIMIT, async { while state.next().await != Some(SyncState::Connected) {} }).await
        })
        .expect("syncs on the given runtime");
    client.stop_sync();
    drop(server);
}

#[tokio::test]
async fn dispose_leaves_the_calls_and_stops_sync() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    let bob = user(&server.url(), "bob").await;
    let chat = alice.create_direct(&bob.user_id().expect("id")).await.expect("direct chat");
    connected(&alice).await;
    let _alices_call = join_quiet(&alice, &chat.id, &[]).await;
    let _bobs_call = join_quiet(&bob, &chat.id, &[]).await;
    let participants =
        || async { bob.chat(&chat.id).running_call().await.expect("read").map(|c| c.participants.len()) };
    assert_eq!(participants().await, Some(2));
    // The app keeps its Call handle, but the client goes away.
    alice.dispose();
    let deadline = std::time::Instant::now() + LIMIT;
    while participants().await != Some(1) {
        assert!(std::time::Instant::now() < deadline, "alice's participant is still in the call");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut state = alice.sync_state();
    tokio::time::timeout(LIMIT, async {
        while !matches!(state.get(), SyncState::Disconnected { .. }) {
            state.next().await;
        }
    })
    .await
    .expect("sync stops");
}

#[tokio::test]
async fn a_reconnected_client_forgets_who_went_offline_and_calls_that_ended_while_away() {
    let server = Server::start().await;
    let proxy = crate::harness::Proxy::start(server.addr).await;
    let alice = builder(&proxy.url()).build().await.expect("client");
    alice.register("alice", &password("alice"), None).await.expect("register");
    let bob = user(&server.url(), "bob").await;
    let bob_id = bob.user_id().expect("id");
    let chat = alice.create_direct(&bob_id).await.expect("direct chat");
    connected(&bob).await;
    connected(&alice).await;
    let (online, calls) = (alice.online_users(), alice.running_calls());
    wait_until("alice sees bob online", LIMIT, || online.get().contains(&bob_id)).await;
    let call = join_quiet(&bob, &chat.id, &[]).await;
    wait_until("alice's client rings", LIMIT, || calls.get().contains_key(&chat.id)).await;

    // Alice's socket is away while bob hangs up and goes offline.
    proxy.hold(true);
    proxy.cut();
    call.leave().await.expect("leave");
    bob.stop_sync();
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.hold(false);
    let state = alice.sync_state();
    wait_until("alice is back, without bob online or his call", Duration::from_secs(20), || {
        state.get() == SyncState::Connected && !online.get().contains(&bob_id) && calls.get().is_empty()
    })
    .await;
}
