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
#[cfg(not(target_family = "wasm"))]
pub mod call;
mod call_router;
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

pub use chat_list::{ChatList, ChatListItem};
pub use client::{Client, ClientBuilder, ProfileUpdate};
pub use session::Session;
pub use sync::{DisconnectReason, SyncState};
pub use timeline::{SendState, Timeline, TimelineItem};

pub use chatter_core::model;
pub use chatter_core::protocol;
pub use chatter_core::{CallId, ChatId, MessageId, ParticipantId, SessionId, Timestamp, UserId};
pub use error::{Result, SdkError};
