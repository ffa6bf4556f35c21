//! The store conformance suite: every backend must pass it. A backend's tests invoke
//! [`store_conformance_tests!`](crate::store_conformance_tests) with an async expression
//! that makes a fresh, empty store (and a guard to keep alive, such as a temp dir).

#![allow(clippy::unwrap_used)] // test code: a failed step is a failed test

use super::*;
use crate::model::{ChatEventKind, DELETED_USER_NAME};
use crate::value::Password;
use futures::future::join_all;

/// Generates one `#[tokio::test]` per conformance case. `$make` is an async expression
/// returning `(guard, store)`; the guard lives as long as the test. With `optional`,
/// `$make` returns `Option<(guard, store)>` and a `None` (no server for an external
/// backend outside the test command) runs nothing.
#[macro_export]
macro_rules! store_conformance_tests {
    (optional $make:expr) => {
        $crate::store_conformance_tests!(@list optional $make);
    };
    (@list $mode:ident $make:expr) => {
        $crate::store_conformance_tests!(@cases $mode $make;
            users_are_found_by_id_and_username,
            usernames_stay_unique_even_after_deletion,
            profile_update_changes_only_given_fields,
            deleted_user_is_blanked_and_left_out_of_search,
            user_search_matches_prefixes_and_pages_by_username,
            sessions_are_found_by_token_hash_and_revoked,
            direct_chat_is_unique_per_pair,
            members_are_added_once_with_events,
            owner_leaving_hands_over_to_oldest_admin_else_oldest_member,
            last_member_leaving_deletes_the_chat,
            appends_get_gap_free_seqs_and_event_seqs,
            append_is_idempotent_by_client_id_per_sender,
            concurrent_appends_have_no_gap_or_duplicate,
            concurrent_sends_with_one_client_id_make_one_message,
            message_windows_are_ascending_and_bounded,
            edit_and_delete_record_events_and_keep_tombstones,
            message_of_another_chat_is_not_found,
            read_marker_never_moves_back_and_drives_unread_count,
            chats_of_user_are_ordered_by_activity_and_paged,
            public_chat_search_matches_titles_and_pages,
            chat_events_replay_after_an_event_seq,
            replay_shows_only_what_exists_now,
            data_survives_reading_back_every_field,
            presence_audience_is_direct_partners_and_small_group_members,
        );
    };
    (@cases required $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (_guard, store) = $make.await;
                $crate::store::conformance::$case(&store).await;
            }
        )*
    };
    (@cases optional $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                // No backend configured (outside the test command): nothing to run.
                let Some((_guard, store)) = $make.await else { return };
                $crate::store::conformance::$case(&store).await;
            }
        )*
    };
    ($make:expr) => {
        $crate::store_conformance_tests!(@list required $make);
    };
}

fn t(n: i64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + n * 1_000_000)
}

async fn user(store: &dyn Store, name: &str) -> User {
    store
        .create_user(NewUser {
            id: UserId::new(format!("u-{name}")),
            username: Username::parse(name).expect("valid username"),
            display_name: DisplayName::parse(&format!("The {name}")).expect("valid name"),
            password_hash: format!("hash-of-{}", Password::for_check(name).expose()),
            created_at: t(0),
        })
        .await
        .expect("create user")
}

async fn group(store: &dyn Store, id: &str, title: &str, owner: &User, at: Timestamp) -> Chat {
    let created = store
        .create_chat(NewChat {
            id: ChatId::new(id),
            kind: ChatKind::Group,
            title: Some(ChatTitle::parse(title).expect("valid title")),
            visibility: Visibility::Public,
            owner_id: Some(owner.id.clone()),
            members: vec![(owner.id.clone(), Role::Owner)],
            created_at: at,
        })
        .await
        .expect("create chat");
    match created {
        Created::New(c) => c,
        Created::Existing(_) => panic!("a new group cannot exist already"),
    }
}

fn new_message(chat: &ChatId, sender: &User, n: usize, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        id: MessageId::new(format!("{chat}-{}-{n}-{}", sender.id, client_id.unwrap_or("-"))),
        chat_id: chat.clone(),
        sender_id: sender.id.clone(),
        text: MessageText::parse(&format!("message {n}")).expect("valid text"),
        client_id: client_id.map(|c| ClientId::parse(c).expect("valid client id")),
        reply_to: None,
        created_at: t(100 + n as i64),
    }
}

async fn send(store: &dyn Store, chat: &ChatId, sender: &User, n: usize) -> Message {
    match store.append_message(new_message(chat, sender, n, None)).await.expect("append") {
        Created::New((m, _)) => m,
        Created::Existing(_) => panic!("a send without client_id is never a repeat"),
    }
}

/// Users are found by id and by username, and unknown ones are `None`.
pub async fn users_are_found_by_id_and_username(store: &dyn Store) {
    let alice = user(store, "alice").await;
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.display_name, "The alice");
    assert_eq!(store.user(&alice.id).await.unwrap(), Some(alice.clone()));
    let creds =
        store.credentials_by_username(&Username::parse("ALICE").unwrap()).await.unwrap().expect("found by username");
    assert_eq!(creds.user, alice);
    assert_eq!(creds.password_hash.as_deref(), Some("hash-of-alice"));
    let by_id = store.credentials_by_id(&alice.id).await.unwrap().expect("by id");
    assert_eq!(by_id.user, alice);
    assert_eq!(store.user(&UserId::new("nobody")).await.unwrap(), None);
    assert!(store.credentials_by_username(&Username::parse("bob").unwrap()).await.unwrap().is_none());
}

/// A taken username cannot be registered again, even once its owner deleted the account.
pub async fn usernames_stay_unique_even_after_deletion(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let again = NewUser {
        id: UserId::new("u-other"),
        username: Username::parse("alice").unwrap(),
        display_name: DisplayName::parse("x").unwrap(),
        password_hash: "h".into(),
        created_at: t(1),
    };
    assert_eq!(store.create_user(again.clone()).await, Err(StoreError::UsernameTaken));
    store.mark_user_deleted(&alice.id).await.unwrap();
    assert_eq!(store.create_user(again).await, Err(StoreError::UsernameTaken));
}

/// Only the fields given in an update change.
pub async fn profile_update_changes_only_given_fields(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let u = store
        .update_profile(&alice.id, ProfileUpdate { bio: Some(Bio::parse("hello").unwrap()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!((u.display_name.as_str(), u.bio.as_str(), u.avatar_url.as_str()), ("The alice", "hello", ""));
    let u = store
        .update_profile(
            &alice.id,
            ProfileUpdate {
                display_name: Some(DisplayName::parse("Al").unwrap()),
                avatar_url: Some(AvatarUrl::parse("https://x.example/a.png").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((u.display_name.as_str(), u.bio.as_str()), ("Al", "hello"));
    assert_eq!(store.user(&alice.id).await.unwrap(), Some(u));
    store.set_password_hash(&alice.id, "new-hash").await.unwrap();
    let creds = store.credentials_by_id(&alice.id).await.unwrap().unwrap();
    assert_eq!(creds.password_hash.as_deref(), Some("new-hash"));
    let missing = store.update_profile(&UserId::new("nobody"), ProfileUpdate::default()).await;
    assert_eq!(missing, Err(StoreError::NotFound("user")));
}

/// A deleted account keeps its id, loses its profile and password, and leaves search.
pub async fn deleted_user_is_blanked_and_left_out_of_search(store: &dyn Store) {
    let alice = user(store, "alice").await;
    store
        .update_profile(&alice.id, ProfileUpdate { bio: Some(Bio::parse("b").unwrap()), ..Default::default() })
        .await
        .unwrap();
    let gone = store.mark_user_deleted(&alice.id).await.unwrap();
    assert!(gone.deleted);
    assert_eq!(gone.display_name, DELETED_USER_NAME);
    assert_eq!(gone.bio, "");
    assert_eq!(store.user(&alice.id).await.unwrap(), Some(gone));
    let creds = store.credentials_by_id(&alice.id).await.unwrap().unwrap();
    assert_eq!(creds.password_hash, None);
    assert!(store.search_users("al", None, 10).await.unwrap().is_empty());
}

/// Search matches a prefix of the username or the lowercased display name, in username
/// order, and pages by the last username.
pub async fn user_search_matches_prefixes_and_pages_by_username(store: &dyn Store) {
    for name in ["carol", "bob", "alice", "alfred", "zed"] {
        user(store, name).await;
    }
    let names = |us: Vec<User>| us.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(store.search_users("al", None, 10).await.unwrap()), ["alfred", "alice"]);
    // Display names are "The <name>": a display-name prefix matches every user.
    assert_eq!(names(store.search_users("the ", None, 2).await.unwrap()), ["alfred", "alice"]);
    assert_eq!(names(store.search_users("the ", Some("alice"), 2).await.unwrap()), ["bob", "carol"]);
    assert_eq!(names(store.search_users("the ", Some("carol"), 2).await.unwrap()), ["zed"]);
    assert!(store.search_users("xy", None, 10).await.unwrap().is_empty());
}

/// Sessions are found by token hash, listed oldest first, touched and deleted.
pub async fn sessions_are_found_by_token_hash_and_revoked(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let session = |id: &str, u: &User, n: i64| Session {
        id: SessionId::new(id),
        user_id: u.id.clone(),
        token_hash: format!("hash-{id}"),
        device_name: (n == 1).then(|| "phone".to_owned()),
        created_at: t(n),
        last_seen_at: t(n),
    };
    for (id, u, n) in [("s1", &alice, 1), ("s2", &alice, 2), ("s3", &alice, 3), ("s4", &bob, 4)] {
        store.create_session(session(id, u, n)).await.unwrap();
    }
    assert_eq!(store.session_by_token_hash("hash-s1").await.unwrap(), Some(session("s1", &alice, 1)));
    assert_eq!(store.session_by_token_hash("nope").await.unwrap(), None);
    let ids = |ss: Vec<Session>| ss.into_iter().map(|s| s.id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(store.sessions_of_user(&alice.id).await.unwrap()), ["s1", "s2", "s3"]);
    store.touch_session(&SessionId::new("s2"), t(50)).await.unwrap();
    let s2 = store.session_by_token_hash("hash-s2").await.unwrap().unwrap();
    assert_eq!(s2.last_seen_at, t(50));
    // Another user's session cannot be deleted.
    assert!(!store.delete_session(&bob.id, &SessionId::new("s1")).await.unwrap());
    assert!(store.delete_session(&alice.id, &SessionId::new("s1")).await.unwrap());
    assert_eq!(store.session_by_token_hash("hash-s1").await.unwrap(), None);
    let gone = store.delete_sessions_of_user(&alice.id, Some(&SessionId::new("s3"))).await.unwrap();
    assert_eq!(gone, vec![SessionId::new("s2")]);
    assert_eq!(ids(store.sessions_of_user(&alice.id).await.unwrap()), ["s3"]);
    assert_eq!(ids(store.sessions_of_user(&bob.id).await.unwrap()), ["s4"]);
}

/// A second direct chat of the same pair, in either order, returns the first.
pub async fn direct_chat_is_unique_per_pair(store: &dyn Store) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let new = |id: &str, x: &User, y: &User| NewChat {
        id: ChatId::new(id),
        kind: ChatKind::Direct,
        title: None,
        visibility: Visibility::Private,
        owner_id: None,
        members: vec![(x.id.clone(), Role::Member), (y.id.clone(), Role::Member)],
        created_at: t(1),
    };
    let Created::New(first) = store.create_chat(new("d1", &a, &b)).await.unwrap() else {
        panic!("the first direct chat is new");
    };
    assert_eq!(first.kind, ChatKind::Direct);
    assert_eq!(first.member_count, 2);
    assert_eq!(first.title, None);
    assert_eq!(store.create_chat(new("d2", &b, &a)).await.unwrap(), Created::Existing(first.clone()));
    assert_eq!(store.chat(&ChatId::new("d2")).await.unwrap(), None);
    let c = user(store, "carol").await;
    assert!(matches!(store.create_chat(new("d3", &a, &c)).await.unwrap(), Created::New(_)));
}

/// Adding a member records `member_joined`; adding them again changes nothing.
pub async fn members_are_added_once_with_events(store: &dyn Store) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    let (m, ev) = store.add_member(&chat.id, &b, Role::Member, t(2)).await.unwrap().expect("added");
    assert_eq!((m.role, m.joined_at, m.read_seq), (Role::Member, t(2), 0));
    assert_eq!(ev.event_seq, 1);
    assert_eq!(ev.kind, ChatEventKind::MemberJoined { user: b.clone(), role: Role::Member });
    assert_eq!(store.add_member(&chat.id, &b, Role::Admin, t(3)).await.unwrap(), None);
    assert_eq!(store.member(&chat.id, &b.id).await.unwrap(), Some(m));
    let chat = store.chat(&chat.id).await.unwrap().unwrap();
    assert_eq!((chat.member_count, chat.last_event_seq), (2, 1));
    let bob_in = store.member(&chat.id, &b.id).await.unwrap();
    assert_eq!(store.chat_with_member(&chat.id, &b.id).await.unwrap(), Some((chat.clone(), bob_in)));
    let nobody = UserId::new("nobody");
    assert_eq!(store.chat_with_member(&chat.id, &nobody).await.unwrap(), Some((chat.clone(), None)));
    assert_eq!(store.chat_with_member(&ChatId::new("no-such-chat"), &b.id).await.unwrap(), None);
    assert!(matches!(store.set_role(&chat.id, &a.id, Role::Member).await, Err(StoreError::Conflict(_))));
    let (m, ev) = store.set_role(&chat.id, &b.id, Role::Admin).await.unwrap();
    assert_eq!(m.role, Role::Admin);
    assert_eq!((ev.event_seq, ev.kind), (2, ChatEventKind::MemberRole { user_id: b.id.clone(), role: Role::Admin }));
    let members = store.members(&chat.id, None, 10).await.unwrap();
    let names: Vec<_> = members.iter().map(|e| (e.user.username.as_str(), e.member.role)).collect();
    assert_eq!(names, [("alice", Role::Owner), ("bob", Role::Admin)]);
    let after_first = store.members(&chat.id, Some((t(1), a.id.clone())), 10).await.unwrap();
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].user, b);
    assert_eq!(store.chat_heads(&b.id).await.unwrap(), vec![(chat.id.clone(), 2)]);
    let removed = store.remove_member(&chat.id, &b.id, LeaveReason::Removed).await.unwrap();
    assert!(!removed.chat_deleted);
    assert_eq!(removed.events.len(), 1);
    assert_eq!(removed.events[0].event_seq, 3);
    assert_eq!(
        removed.events[0].kind,
        ChatEventKind::MemberLeft { user_id: b.id.clone(), reason: LeaveReason::Removed }
    );
    assert_eq!(store.member(&chat.id, &b.id).await.unwrap(), None);
    assert!(store.chat_heads(&b.id).await.unwrap().is_empty());
    assert_eq!(store.remove_member(&chat.id, &b.id, LeaveReason::Left).await, Err(StoreError::NotFound("member")));
}

/// When the owner leaves, the oldest admin becomes owner; with no admin, the oldest member.
pub async fn owner_leaving_hands_over_to_oldest_admin_else_oldest_member(store: &dyn Store) {
    let [a, b, c, d] =
        [user(store, "alice").await, user(store, "bob").await, user(store, "carol").await, user(store, "dave").await];
    let chat = group(store, "g", "Group", &a, t(1)).await;
    store.add_member(&chat.id, &b, Role::Member, t(2)).await.unwrap();
    store.add_member(&chat.id, &c, Role::Admin, t(3)).await.unwrap();
    store.add_member(&chat.id, &d, Role::Admin, t(4)).await.unwrap();
    let r = store.remove_member(&chat.id, &a.id, LeaveReason::Left).await.unwrap();
    assert_eq!(r.new_owner, Some(c.id.clone()));
    let kinds: Vec<_> = r.events.iter().map(|e| (e.event_seq, e.kind.clone())).collect();
    assert_eq!(kinds[0], (4, ChatEventKind::MemberLeft { user_id: a.id.clone(), reason: LeaveReason::Left }));
    assert_eq!(kinds[1], (5, ChatEventKind::MemberRole { user_id: c.id.clone(), role: Role::Owner }));
    let ChatEventKind::ChatUpdated { chat: updated } = &kinds[2].1 else { panic!("third event is chat.updated") };
    assert_eq!((kinds[2].0, updated.owner_id.clone(), updated.last_event_seq), (6, Some(c.id.clone()), 6));
    let now = store.chat(&chat.id).await.unwrap().unwrap();
    assert_eq!((now.owner_id, now.member_count, now.last_event_seq), (Some(c.id.clone()), 3, 6));
    assert_eq!(store.member(&chat.id, &c.id).await.unwrap().unwrap().role, Role::Owner);
    // c leaves: d is the only admin left.
    let r = store.remove_member(&chat.id, &c.id, LeaveReason::Left).await.unwrap();
    assert_eq!(r.new_owner, Some(d.id.clone()));
    store.set_role(&chat.id, &b.id, Role::Member).await.unwrap();
    // d leaves: no admin, the oldest member (b) takes over.
    let r = store.remove_member(&chat.id, &d.id, LeaveReason::Left).await.unwrap();
    assert_eq!(r.new_owner, Some(b.id.clone()));
    // A plain member leaving hands nothing over.
    store.add_member(&chat.id, &a, Role::Member, t(9)).await.unwrap();
    let r = store.remove_member(&chat.id, &a.id, LeaveReason::Left).await.unwrap();
    assert_eq!((r.new_owner, r.events.len()), (None, 1));
}

/// The last member out deletes the chat with its messages and events.
pub async fn last_member_leaving_deletes_the_chat(store: &dyn Store) {
    let a = user(store, "alice").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    let m = send(store, &chat.id, &a, 1).await;
    let r = store.remove_member(&chat.id, &a.id, LeaveReason::Left).await.unwrap();
    assert!(r.chat_deleted);
    assert!(r.events.is_empty());
    assert_eq!(store.chat(&chat.id).await.unwrap(), None);
    assert_eq!(store.message(&chat.id, &m.id).await.unwrap(), None);
    assert!(store.chat_events(&chat.id, 0, 10).await.unwrap().is_empty());
    assert!(store.chats_of_user(&a.id, None, 10).await.unwrap().is_empty());
}

/// Each append takes the next seq and the next event_seq, and bumps activity.
pub async fn appends_get_gap_free_seqs_and_event_seqs(store: &dyn Store) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    store.add_member(&chat.id, &b, Role::Member, t(2)).await.unwrap();
    for n in 1..=5 {
        let Created::New((m, ev)) = store.append_message(new_message(&chat.id, &a, n, None)).await.unwrap() else {
            panic!("new message with its event");
        };
        assert_eq!(m.seq, n as u64);
        assert_eq!(ev.event_seq, n as u64 + 1);
        assert_eq!(ev.kind, ChatEventKind::MessageCreated { message: m.clone() });
        assert_eq!((m.text.clone(), m.deleted, m.edited_at), (format!("message {n}"), false, None));
    }
    let chat = store.chat(&chat.id).await.unwrap().unwrap();
    assert_eq!((chat.last_seq, chat.last_event_seq, chat.last_activity_at), (5, 6, t(105)));
    let missing = store.append_message(new_message(&ChatId::new("nope"), &a, 1, None)).await;
    assert_eq!(missing, Err(StoreError::NotFound("chat")));
}

/// A repeated (sender, client_id) returns the first message; another sender's same
/// client_id is a different message.
pub async fn append_is_idempotent_by_client_id_per_sender(store: &dyn Store) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    store.add_member(&chat.id, &b, Role::Member, t(2)).await.unwrap();
    let Created::New((first, _)) = store.append_message(new_message(&chat.id, &a, 1, Some("c1"))).await.unwrap() else {
        panic!("first is new");
    };
    let mut again = new_message(&chat.id, &a, 2, Some("c1"));
    again.id = MessageId::new("another-id");
    let Created::Existing((repeat, event)) = store.append_message(again).await.unwrap() else {
        panic!("a repeated client_id is not new");
    };
    assert_eq!(repeat, first);
    assert_eq!((event.event_seq, event.kind), (2, ChatEventKind::MessageCreated { message: first.clone() }));
    let Created::New((other, _)) = store.append_message(new_message(&chat.id, &b, 3, Some("c1"))).await.unwrap() else {
        panic!("another sender's client_id is new");
    };
    assert_eq!((first.seq, other.seq), (1, 2));
    assert_eq!(first.client_id.as_deref(), Some("c1"));
    let chat = store.chat(&chat.id).await.unwrap().unwrap();
    assert_eq!(chat.last_seq, 2);
}

/// 20 concurrent senders of 50 messages each get seqs 1..=1000 exactly once.
pub async fn concurrent_appends_have_no_gap_or_duplicate(store: &dyn Store) {
    let a = user(store, "alice").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    let senders = (0..20).map(|s| {
        let (a, chat_id) = (a.clone(), chat.id.clone());
        async move {
            let mut seqs = Vec::new();
            for n in 0..50 {
                let mut new = new_message(&chat_id, &a, s * 100 + n, None);
                new.id = MessageId::new(format!("m-{s}-{n}"));
                match store.append_message(new).await.expect("append") {
                    Created::New((m, _)) => seqs.push(m.seq),
                    Created::Existing(_) => panic!("no client_id, no repeat"),
                }
            }
            seqs
        }
    });
    let mut all: Vec<u64> = join_all(senders).await.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (1..=1000).collect::<Vec<_>>());
    let events = store.chat_events(&chat.id, 0, 2000).await.unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.event_seq).collect();
    assert_eq!(seqs, (1..=1000).collect::<Vec<_>>());
}

/// Concurrent sends with one client_id make exactly one message.
pub async fn concurrent_sends_with_one_client_id_make_one_message(store: &dyn Store) {
    let a = user(store, "alice").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    let tries = (0..10).map(|n| {
        let mut new = new_message(&chat.id, &a, n, Some("same"));
        new.id = MessageId::new(format!("try-{n}"));
        store.append_message(new)
    });
    let results = join_all(tries).await;
    let new_count = results.iter().filter(|r| matches!(r, Ok(Created::New(_)))).count();
    assert_eq!(new_count, 1);
    let ids: std::collections::HashSet<_> = results
        .into_iter()
        .map(|r| match r.expect("append") {
            Created::New((m, _)) | Created::Existing((m, _)) => m.id,
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(store.chat(&chat.id).await.unwrap().unwrap().last_seq, 1);
}

/// Latest, before and after windows return ascending seqs of the right range.
pub async fn message_windows_are_ascending_and_bounded(store: &dyn Store) {
    let a = user(store, "alice").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    for n in 1..=10 {
        send(store, &chat.id, &a, n).await;
    }
    let seqs = |ms: Vec<Message>| ms.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    let w = |window, limit| store.messages(&chat.id, window, limit);
    assert_eq!(seqs(w(MessageWindow::Latest, 3).await.unwrap()), [8, 9, 10]);
    assert_eq!(seqs(w(MessageWindow::Latest, 50).await.unwrap()), (1..=10).collect::<Vec<_>>());
    assert_eq!(seqs(w(MessageWindow::Before(8), 3).await.unwrap()), [5, 6, 7]);
    assert_eq!(seqs(w(MessageWindow::Before(3), 5).await.unwrap()), [1, 2]);
    assert!(w(MessageWindow::Before(1), 5).await.unwrap().is_empty());
    assert_eq!(seqs(w(MessageWindow::Before(100), 2).await.unwrap()), [9, 10]);
    assert_eq!(seqs(w(MessageWindow::After(2), 3).await.unwrap()), [3, 4, 5]);
    assert_eq!(seqs(w(MessageWindow::After(8), 5).await.unwrap()), [9, 10]);
    assert_eq!(seqs(w(MessageWindow::After(0), 1).await.unwrap()), [1]);
    assert!(w(MessageWindow::After(10), 5).await.unwrap().is_empty());
    assert!(store.messages(&ChatId::new("nope"), MessageWindow::Latest, 5).await.unwrap().is_empty());
}

/// Edits and deletions record events; a deleted message keeps its seq, loses its text.
pub async fn edit_and_delete_record_events_and_keep_tombstones(store: &dyn Store) {
    let a = user(store, "alice").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    let m1 = send(store, &chat.id, &a, 1).await;
    let m2 = send(store, &chat.id, &a, 2).await;
    let text = MessageText::parse("edited").unwrap();
    let (edited, ev) = store.edit_message(&chat.id, &m1.id, &text, t(200)).await.unwrap();
    assert_eq!((edited.text.as_str(), edited.edited_at, edited.seq), ("edited", Some(t(200)), 1));
    assert_eq!((ev.event_seq, ev.kind), (3, ChatEventKind::MessageEdited { message: edited.clone() }));
    let (deleted, ev) = store.delete_message(&chat.id, &m2.id).await.unwrap().expect("deleted");
    assert_eq!((deleted.text.as_str(), deleted.deleted, deleted.seq), ("", true, 2));
    assert_eq!((ev.event_seq, ev.kind), (4, ChatEventKind::MessageDeleted { message_id: m2.id.clone(), seq: 2 }));
    assert_eq!(store.delete_message(&chat.id, &m2.id).await.unwrap(), None);
    assert_eq!(store.message(&chat.id, &m2.id).await.unwrap(), Some(deleted));
    assert_eq!(store.message(&chat.id, &m1.id).await.unwrap(), Some(edited));
    let chat = store.chat(&chat.id).await.unwrap().unwrap();
    assert_eq!((chat.last_seq, chat.last_event_seq), (2, 4));
    let missing = store.edit_message(&chat.id, &MessageId::new("nope"), &text, t(1)).await;
    assert_eq!(missing, Err(StoreError::NotFound("message")));
    // A tombstone never gets text back, even from an edit that raced the deletion.
    assert!(matches!(store.edit_message(&chat.id, &m2.id, &text, t(300)).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.message(&chat.id, &m2.id).await.unwrap().unwrap().text, "");
    // Seqs past any backend's integer range behave like the largest seq.
    assert!(store.messages(&chat.id, MessageWindow::After(u64::MAX), 5).await.unwrap().is_empty());
    assert_eq!(store.messages(&chat.id, MessageWindow::Before(u64::MAX), 5).await.unwrap().len(), 2);
    assert!(store.chat_events(&chat.id, u64::MAX, 5).await.unwrap().is_empty());
}

/// A message id looked up in another chat is not found.
pub async fn message_of_another_chat_is_not_found(store: &dyn Store) {
    let a = user(store, "alice").await;
    let g1 = group(store, "g1", "One", &a, t(1)).await;
    let g2 = group(store, "g2", "Two", &a, t(2)).await;
    let m = send(store, &g1.id, &a, 1).await;
    assert_eq!(store.message(&g2.id, &m.id).await.unwrap(), None);
    let text = MessageText::parse("x").unwrap();
    assert_eq!(store.edit_message(&g2.id, &m.id, &text, t(3)).await, Err(StoreError::NotFound("message")));
    assert_eq!(store.delete_message(&g2.id, &m.id).await, Err(StoreError::NotFound("message")));
}

/// The read marker only moves forward; unread counts others' live messages above it.
pub async fn read_marker_never_moves_back_and_drives_unread_count(store: &dyn Store) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    store.add_member(&chat.id, &b, Role::Member, t(2)).await.unwrap();
    for n in 1..=4 {
        send(store, &chat.id, &a, n).await;
    }
    send(store, &chat.id, &b, 5).await;
    let third = store.messages(&chat.id, MessageWindow::After(2), 1).await.unwrap().remove(0);
    store.delete_message(&chat.id, &third.id).await.unwrap();
    let summary = store.chat_summary(&chat.id, &b.id).await.unwrap().unwrap();
    assert_eq!((summary.unread_count, summary.read_seq, summary.role), (3, 0, Role::Member));
    assert_eq!(summary.last_message.map(|m| m.seq), Some(5));
    assert_eq!(store.mark_read(&chat.id, &b.id, 2).await.unwrap(), 2);
    assert_eq!(store.chat_summary(&chat.id, &b.id).await.unwrap().unwrap().unread_count, 1);
    assert_eq!(store.mark_read(&chat.id, &b.id, 1).await.unwrap(), 2);
    assert_eq!(store.member(&chat.id, &b.id).await.unwrap().unwrap().read_seq, 2);
    assert_eq!(store.chat_summary(&chat.id, &a.id).await.unwrap().unwrap().unread_count, 1);
    let c = user(store, "carol").await;
    assert_eq!(store.chat_summary(&chat.id, &c.id).await.unwrap(), None);
    assert_eq!(store.mark_read(&chat.id, &c.id, 1).await, Err(StoreError::NotFound("member")));
}

/// A user's chats come most recently active first and page without gaps.
pub async fn chats_of_user_are_ordered_by_activity_and_paged(store: &dyn Store) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(group(store, &format!("g{n}"), &format!("G{n}"), &a, t(n)).await.id);
    }
    group(store, "other", "Other", &b, t(9)).await;
    // g1 gets a message last: it moves to the front.
    send(store, &ids[1], &a, 1).await;
    let order = |ss: &[ChatSummary]| ss.iter().map(|s| s.chat.id.to_string()).collect::<Vec<_>>();
    let all = store.chats_of_user(&a.id, None, 10).await.unwrap();
    assert_eq!(order(&all), ["g1", "g4", "g3", "g2", "g0"]);
    let first = store.chats_of_user(&a.id, None, 2).await.unwrap();
    assert_eq!(order(&first), ["g1", "g4"]);
    let last = &first[1].chat;
    let next = store.chats_of_user(&a.id, Some((last.last_activity_at, last.id.clone())), 2).await.unwrap();
    assert_eq!(order(&next), ["g3", "g2"]);
    assert_eq!(all[0].last_message.as_ref().map(|m| m.seq), Some(1));
    assert_eq!(all[0].chat.last_activity_at, t(101));
}

/// Public group search matches title substrings, case-insensitively, in title order.
pub async fn public_chat_search_matches_titles_and_pages(store: &dyn Store) {
    let a = user(store, "alice").await;
    for (id, title) in [("g1", "Rust Users"), ("g2", "rustaceans"), ("g3", "Go Users"), ("g4", "Trusty")] {
        group(store, id, title, &a, t(1)).await;
    }
    let hidden = group(store, "g5", "Rust secret", &a, t(1)).await;
    store
        .update_chat(&hidden.id, ChatUpdate { visibility: Some(Visibility::Private), ..Default::default() })
        .await
        .unwrap();
    let titles = |cs: Vec<Chat>| cs.into_iter().map(|c| c.title.unwrap_or_default()).collect::<Vec<_>>();
    assert_eq!(
        titles(store.search_public_chats("rust", None, 10).await.unwrap()),
        ["Rust Users", "rustaceans", "Trusty"]
    );
    assert_eq!(titles(store.search_public_chats("", None, 2).await.unwrap()), ["Go Users", "Rust Users"]);
    let after = Some(("rust users".to_owned(), ChatId::new("g1")));
    assert_eq!(titles(store.search_public_chats("", after, 10).await.unwrap()), ["rustaceans", "Trusty"]);
    let (renamed, ev) = store
        .update_chat(
            &ChatId::new("g3"),
            ChatUpdate { title: Some(ChatTitle::parse("Gophers").unwrap()), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(renamed.title.as_deref(), Some("Gophers"));
    assert_eq!(ev.kind, ChatEventKind::ChatUpdated { chat: renamed.clone() });
    assert_eq!(renamed.last_event_seq, ev.event_seq);
    assert_eq!(titles(store.search_public_chats("users", None, 10).await.unwrap()), ["Rust Users"]);
}

/// Chat events replay in order after any event_seq, with limits.
pub async fn chat_events_replay_after_an_event_seq(store: &dyn Store) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let chat = group(store, "g", "Group", &a, t(1)).await;
    store.add_member(&chat.id, &b, Role::Member, t(2)).await.unwrap();
    for n in 1..=3 {
        send(store, &chat.id, &b, n).await;
    }
    store.remove_member(&chat.id, &b.id, LeaveReason::Left).await.unwrap();
    let all = store.chat_events(&chat.id, 0, 100).await.unwrap();
    assert_eq!(all.iter().map(|e| e.event_seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert!(matches!(all[0].kind, ChatEventKind::MemberJoined { .. }));
    assert!(matches!(all[4].kind, ChatEventKind::MemberLeft { .. }));
    let tail = store.chat_events(&chat.id, 2, 2).await.unwrap();
    assert_eq!(tail.iter().map(|e| e.event_seq).collect::<Vec<_>>(), [3, 4]);
    assert!(tail.iter().all(|e| e.chat_id == chat.id));
    assert!(store.chat_events(&chat.id, 5, 10).await.unwrap().is_empty());
}

/// Replay shows messages and profiles as they are now: a deleted message's creation is
/// its tombstone, an edited one's carries the current text, a deleted account's join
/// its blanked profile. None of the old text or profile can be read back.
pub async fn replay_shows_only_what_exists_now(store: &dyn Store) {
    let a = user(store, "alice").await;
    let b = user(store, "bob").await;
    let bio = ProfileUpdate { bio: Some(Bio::parse("bob's private bio").unwrap()), ..Default::default() };
    let b = store.update_profile(&b.id, bio).await.unwrap();
    let chat = group(store, "g", "Group", &a, t(1)).await;
    store.add_member(&chat.id, &b, Role::Member, t(2)).await.unwrap();
    let post = |n: usize, text: &str| {
        let mut m = new_message(&chat.id, &b, n, None);
        m.text = MessageText::parse(text).unwrap();
        m
    };
    let Created::New((secret, _)) = store.append_message(post(1, "SECRET plan")).await.unwrap() else { panic!() };
    let Created::New((draft, _)) = store.append_message(post(2, "first draft")).await.unwrap() else { panic!() };
    store.edit_message(&chat.id, &draft.id, &MessageText::parse("second draft").unwrap(), t(300)).await.unwrap();
    store.edit_message(&chat.id, &draft.id, &MessageText::parse("final words").unwrap(), t(301)).await.unwrap();
    store.delete_message(&chat.id, &secret.id).await.unwrap().expect("deleted");
    let b_now = store.mark_user_deleted(&b.id).await.unwrap();

    let events = store.chat_events(&chat.id, 0, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.event_seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    let replayed = serde_json::to_string(&events).unwrap();
    for old in ["SECRET", "first draft", "second draft", "The bob", "private bio"] {
        assert!(!replayed.contains(old), "{old:?} can be read back: {replayed}");
    }
    let (secret_now, draft_now) = (
        store.message(&chat.id, &secret.id).await.unwrap().unwrap(),
        store.message(&chat.id, &draft.id).await.unwrap().unwrap(),
    );
    assert!(secret_now.deleted && secret_now.text.is_empty());
    assert_eq!(draft_now.text, "final words");
    assert_eq!(events[0].kind, ChatEventKind::MemberJoined { user: b_now, role: Role::Member });
    assert_eq!(events[1].kind, ChatEventKind::MessageCreated { message: secret_now.clone() });
    assert_eq!(events[2].kind, ChatEventKind::MessageCreated { message: draft_now.clone() });
    assert_eq!(events[3].kind, ChatEventKind::MessageEdited { message: draft_now.clone() });
    assert_eq!(events[4].kind, ChatEventKind::MessageEdited { message: draft_now });
    assert_eq!(events[5].kind, ChatEventKind::MessageDeleted { message_id: secret.id.clone(), seq: 1 });
    // A repeated send answers the message as it is now, too.
    let mut again = new_message(&chat.id, &a, 3, Some("again"));
    again.text = MessageText::parse("kept for a while").unwrap();
    let Created::New((kept, _)) = store.append_message(again.clone()).await.unwrap() else { panic!() };
    store.delete_message(&chat.id, &kept.id).await.unwrap();
    let Created::Existing((retried, event)) = store.append_message(again).await.unwrap() else { panic!() };
    assert!(retried.deleted && retried.text.is_empty());
    assert_eq!(event.kind, ChatEventKind::MessageCreated { message: retried });
}

/// Every field written comes back the same: unicode text, replies, client ids, times.
pub async fn data_survives_reading_back_every_field(store: &dyn Store) {
    let a = user(store, "alice").await;
    let chat = group(store, "g", "Grüße 👋", &a, t(1)).await;
    assert_eq!(store.chat(&chat.id).await.unwrap(), Some(chat.clone()));
    let first = send(store, &chat.id, &a, 1).await;
    let mut reply = new_message(&chat.id, &a, 2, Some("cid-2"));
    reply.text = MessageText::parse("héllo\n\twörld 😀").unwrap();
    reply.reply_to = Some(first.id.clone());
    let Created::New((m, _)) = store.append_message(reply).await.unwrap() else { panic!("new") };
    assert_eq!(m.reply_to, Some(first.id.clone()));
    assert_eq!(m.text, "héllo\n\twörld 😀");
    assert_eq!(store.message(&chat.id, &m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(store.messages(&chat.id, MessageWindow::Latest, 1).await.unwrap(), vec![m]);
    store.ping().await.unwrap();
}

/// Presence goes to direct partners and to members of groups up to the size limit.
pub async fn presence_audience_is_direct_partners_and_small_group_members(store: &dyn Store) {
    let [a, b, c, d, e] = [
        user(store, "alice").await,
        user(store, "bob").await,
        user(store, "carol").await,
        user(store, "dave").await,
        user(store, "erin").await,
    ];
    let small = group(store, "small", "Small", &a, t(1)).await;
    store.add_member(&small.id, &b, Role::Member, t(2)).await.unwrap();
    let big = group(store, "big", "Big", &a, t(1)).await;
    for u in [&c, &d] {
        store.add_member(&big.id, u, Role::Member, t(2)).await.unwrap();
    }
    store
        .create_chat(NewChat {
            id: ChatId::new("dm"),
            kind: ChatKind::Direct,
            title: None,
            visibility: Visibility::Private,
            owner_id: None,
            members: vec![(a.id.clone(), Role::Member), (e.id.clone(), Role::Member)],
            created_at: t(3),
        })
        .await
        .unwrap();
    // Groups of at most 2 members count: "small" (a, b) does, "big" (a, c, d) does not.
    assert_eq!(store.presence_audience(&a.id, 2).await.unwrap(), vec![b.id.clone(), e.id.clone()]);
    assert_eq!(
        store.presence_audience(&a.id, 100).await.unwrap(),
        vec![b.id.clone(), c.id.clone(), d.id.clone(), e.id.clone()]
    );
    assert_eq!(store.presence_audience(&c.id, 100).await.unwrap(), vec![a.id.clone(), d.id.clone()]);
    assert!(store.presence_audience(&UserId::new("nobody"), 100).await.unwrap().is_empty());
}
