//! The wire protocol: serde types of every REST body and WebSocket frame (API.md),
//! shared by the server and the SDK so the two cannot drift.

pub mod call;
pub mod rest;
#[cfg(feature = "openapi")]
mod schema;
pub mod ws;

pub use call::*;
pub use rest::*;
