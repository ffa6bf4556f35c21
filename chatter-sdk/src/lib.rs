//! The Chatter client SDK: log in, list chats, follow a chat's timeline live with
//! gap-free resume across reconnects, send with local echo and an offline queue. The
//! same API runs natively (on the app's tokio runtime) and on wasm32 (in the browser).
//!
//! ```no_run
//! # async fn demo() -> chatter_sdk::Result<()> {
//! use chatter_sdk::Client;
//!
//! let client = Client::builder().server("http://127.0.0.1:8080").build().await?;
//! client.login("alice", "correct horse battery").await?;
//! client.start_sync();
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod api;
#[cfg(target_family = "wasm")]
mod browser;
pub mod call;
mod call_router;
pub mod chat;
pub mod chat_list;
mod client;
pub mod error;
pub mod platform;
pub mod send_queue;
pub mod session;
mod state;
pub mod sync;
pub mod timeline;
pub mod transport;

pub use chat::ChatHandle;
pub use chat_list::{ChatList, ChatListItem};
pub use client::{Client, ClientBuilder, ProfileUpdate};
pub use session::Session;
pub use sync::{DisconnectReason, SyncState};
pub use timeline::{SendState, Timeline, TimelineItem};

pub use chatter_core::model;
pub use chatter_core::protocol;
pub use chatter_core::{CallId, ChatId, MessageId, ParticipantId, SessionId, Timestamp, UserId};
pub use error::{Result, SdkError};

/// Natively, every future of the public API is `Send`, so apps can run it on any tokio
/// worker (and uniffi's runtime). A future that stops being `Send` fails this build.
#[cfg(all(test, not(target_family = "wasm")))]
#[allow(dead_code, clippy::let_underscore_future)]
mod public_futures_are_send {
    use super::*;

    fn send<T: Send>(_: T) {}

    fn client(c: Client, id: ChatId, user: UserId, session: SessionId) {
        send(Client::builder().server("http://127.0.0.1:1").build());
        send(c.register("a", "b", None));
        send(c.login("a", "b"));
        send(c.restore(c.session().expect("session")));
        send(c.logout());
        send(c.sessions());
        send(c.revoke_session(&session));
        send(c.profile());
        send(c.update_profile(ProfileUpdate::default()));
        send(c.change_password("a", "b"));
        send(c.delete_account("a"));
        send(c.user(&user));
        send(c.search_users("a", None));
        send(c.create_group("t", model::Visibility::Private, &[]));
        send(c.create_direct(&user));
        send(c.public_chats("q", None));
        let chat = c.chat(&id);
        send(chat.info());
        send(chat.timeline());
        send(chat.join());
        send(chat.leave());
        send(chat.update(None, None));
        send(chat.members());
        send(chat.invite(&user));
        send(chat.kick(&user));
        send(chat.set_role(&user, model::Role::Admin));
        send(chat.latest_messages(5));
        send(chat.mark_read());
        send(chat.join_call(call::CallOptions::default(), call::webrtc_media::WebrtcMedia::new()));
        send(chat.running_call());
    }

    fn timeline(t: Timeline, message: MessageId) {
        send(t.paginate_backwards(5));
        send(t.send("x"));
        send(t.send_reply("x", &message));
        send(t.retry_send("c"));
        send(t.cancel_send("c"));
        send(t.edit(&message, "x"));
        send(t.delete(&message));
        send(t.mark_read());
    }

    fn call(c: call::Call) {
        send(c.set_microphone_enabled(true));
        send(c.set_camera_enabled(true));
        send(c.set_screen_share_enabled(true));
        send(c.set_muted(model_track(), true));
        send(c.restart_ice());
        send(c.leave());
    }

    fn model_track() -> protocol::TrackKind {
        protocol::TrackKind::Audio
    }
}
