//! Accounts, sessions and their persistence.

use crate::harness::{Server, builder, password, user};
use chatter_sdk::session::FileSessionStore;
use chatter_sdk::{ProfileUpdate, SdkError};

#[tokio::test]
async fn a_persisted_session_reopens_logged_in_without_a_new_login() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("session.json");
    let first = builder(&server.url()).session_store(FileSessionStore::new(&path)).build().await.expect("client");
    let alice = first.register("alice", &password("alice"), Some("Alice")).await.expect("register");
    drop(first);

    let reopened = builder(&server.url()).session_store(FileSessionStore::new(&path)).build().await.expect("client");
    assert_eq!(reopened.user_id(), Some(alice.id.clone()));
    let sessions = reopened.sessions().await.expect("sessions");
    assert_eq!(sessions.len(), 1, "no second session was created");
    assert_eq!(reopened.profile().await.expect("profile").display_name, "Alice");

    reopened.logout().await.expect("logout");
    assert_eq!(reopened.user_id(), None);
    let after = builder(&server.url()).session_store(FileSessionStore::new(&path)).build().await.expect("client");
    assert_eq!(after.user_id(), None, "logout forgot the saved session");
}

#[tokio::test]
async fn restore_continues_a_session_and_a_revoked_one_reports_unauthenticated() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    let session = alice.session().expect("session");

    let other = builder(&server.url()).build().await.expect("client");
    other.restore(session.clone()).await.expect("restore");
    assert_eq!(other.profile().await.expect("profile").username, "alice");

    let second = builder(&server.url()).build().await.expect("client");
    second.login("alice", &password("alice")).await.expect("login");
    second.revoke_session(&session.session_id).await.expect("revoke");
    assert_eq!(other.profile().await, Err(SdkError::Unauthenticated));
    assert_eq!(other.user_id(), None, "an ended session is forgotten");
}

#[tokio::test]
async fn errors_come_back_as_variants_users_can_match() {
    let server = Server::start().await;
    let alice = user(&server.url(), "alice").await;
    let again = builder(&server.url()).build().await.expect("client");
    assert!(matches!(again.register("alice", "another password", None).await, Err(SdkError::Conflict { .. })));
    assert!(matches!(
        again.register("bob", "short", None).await,
        Err(SdkError::Validation { field: Some(f), .. }) if f == "password"
    ));
    assert_eq!(again.login("alice", "wrong password!").await.map(|_| ()), Err(SdkError::Unauthenticated));
    assert!(matches!(alice.user(&"nobody".into()).await, Err(SdkError::NotFound(_))));
    let updated = alice
        .update_profile(ProfileUpdate { bio: Some("hi".into()), ..ProfileUpdate::default() })
        .await
        .expect("update");
    assert_eq!(updated.bio, "hi");
    assert_eq!(alice.change_password("wrong old one", "a new password").await, Err(SdkError::WrongPassword));
    let unreachable = builder("http://127.0.0.1:9").build().await.expect("client");
    assert!(matches!(unreachable.login("a", "b").await, Err(SdkError::Network(_))));
    assert!(matches!(builder("ftp://x").build().await.map(|_| ()), Err(SdkError::InvalidRequest(_))));
}
