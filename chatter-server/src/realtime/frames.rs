//! Encoding server frames once, as shared text.

use axum::extract::ws::Utf8Bytes;
use chatter_core::model::ChatEvent;
use chatter_core::protocol::ws::{EventFrame, ServerMessage};

/// A chat event frame, with the `ref` of the command that caused it on its sender's
/// socket.
pub fn event(event: &ChatEvent, reference: Option<&str>) -> Utf8Bytes {
    let frame = EventFrame { event: event.clone(), reference: reference.map(str::to_owned) };
    encode(&frame)
}

/// Any other server frame.
pub fn message(message: &ServerMessage) -> Utf8Bytes {
    encode(message)
}

/// An `error` frame.
pub fn error(code: &str, message: impl Into<String>, reference: Option<String>) -> Utf8Bytes {
    encode(&ServerMessage::Error { code: code.to_owned(), message: message.into(), reference })
}

fn encode(value: &impl serde::Serialize) -> Utf8Bytes {
    // Serialising our own plain types cannot fail; fall back to an error frame anyway.
    serde_json::to_string(value)
        .unwrap_or_else(|_| r#"{"type":"error","code":"internal","message":"encoding failed"}"#.to_owned())
        .into()
}
