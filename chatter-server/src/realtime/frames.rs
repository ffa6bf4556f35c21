//! Encoding server frames once, as shared bytes (JSON text).

use bytes::Bytes;
use chatter_core::model::ChatEvent;
use chatter_core::protocol::ws::{EventFrame, ServerMessage};

/// A chat event frame, with the `ref` of the command that caused it on its sender's
/// socket.
pub fn event(event: &ChatEvent, reference: Option<&str>) -> Bytes {
    let frame = EventFrame { event: event.clone(), reference: reference.map(str::to_owned) };
    encode(&frame)
}

/// Any other server frame.
pub fn message(message: &ServerMessage) -> Bytes {
    encode(message)
}

/// An `error` frame.
pub fn error(code: &str, message: impl Into<String>, reference: Option<String>) -> Bytes {
    encode(&ServerMessage::Error { code: code.to_owned(), message: message.into(), reference })
}

fn encode(value: &impl serde::Serialize) -> Bytes {
    // Serialising our own plain types cannot fail; fall back to an error frame anyway.
    serde_json::to_string(value)
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::from_static(br#"{"type":"error","code":"internal","message":"encoding failed"}"#))
}
