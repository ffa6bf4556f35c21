//! The Chatter client SDK.
//!
//! This crate will hold the Rust client (login, chats, a gap-free timeline, realtime
//! events, an offline send queue, calls) with the same API natively and on wasm32. For
//! now it re-exports the wire protocol shared with the server, so clients can already
//! speak the v1 REST API with the exact types the server uses.
//!
//! ```
//! use chatter_sdk::protocol::SendMessageRequest;
//!
//! let body = SendMessageRequest { text: "hello".into(), client_id: Some("c-1".into()), reply_to: None };
//! assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"text":"hello","client_id":"c-1"}"#);
//! ```

pub use chatter_core::model;
pub use chatter_core::protocol;
pub use chatter_core::{ChatId, MessageId, SessionId, Timestamp, UserId};
