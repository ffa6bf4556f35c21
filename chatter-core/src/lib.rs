//! Chatter's core: the domain model, the rules of who may do what, the store traits that
//! backends implement, and the wire protocol shared by the server and the SDK.
//!
//! It does no I/O and owns no runtime, clock or randomness: those are passed in
//! ([`Clock`], [`IdGenerator`], [`Credentials`]), so the same code runs in the server, in
//! apps and in the browser (`wasm32-unknown-unknown`).

#![warn(missing_docs)]

pub mod call;
pub mod error;
pub mod id;
pub mod model;
pub mod paging;
pub mod permissions;
pub mod protocol;
pub mod service;
pub mod store;
pub mod time;
pub mod value;

pub use error::{Error, StoreError};
pub use id::{CallId, ChatId, MessageId, ParticipantId, SessionId, UserId};
pub use service::{Clock, Credentials, IdGenerator, Service};
pub use time::Timestamp;
