//! Encoding server frames once, as shared bytes (JSON text).

use crate::public_error::PublicError;
use bytes::Bytes;
use chatter_core::Error;
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

/// An `error` frame about bad input (a frame that is not a command).
pub fn error(code: &str, message: impl Into<String>, reference: Option<String>) -> Bytes {
    encode(&ServerMessage::Error { code: code.to_owned(), message: message.into(), field: None, reference })
}

/// The `error` frame of a failed command: what [`PublicError`] tells of `e`, as HTTP
/// would answer it.
pub fn failed(e: &Error, reference: Option<String>) -> Bytes {
    let public = PublicError::of(e);
    encode(&ServerMessage::Error {
        code: public.code.to_owned(),
        message: public.message,
        field: public.field,
        reference,
    })
}

fn encode(value: &impl serde::Serialize) -> Bytes {
    // Serialising our own plain types cannot fail; fall back to an error frame anyway.
    serde_json::to_string(value)
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::from_static(br#"{"type":"error","code":"internal","message":"encoding failed"}"#))
}
