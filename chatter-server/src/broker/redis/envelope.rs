//! A broadcast as it travels through Redis: JSON, with the node that sent it (which
//! skips its own, having delivered them already).

use crate::broker::Broadcast;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct Out<'a> {
    from: &'a str,
    broadcast: &'a Broadcast,
}

#[derive(Deserialize)]
struct In {
    from: String,
    broadcast: Broadcast,
}

/// Encodes `broadcast` as sent by `node`.
pub fn encode(node: &str, broadcast: &Broadcast) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&Out { from: node, broadcast })
}

/// Decodes a payload into the sending node and its broadcast.
pub fn decode(payload: &[u8]) -> serde_json::Result<(String, Broadcast)> {
    let envelope: In = serde_json::from_slice(payload)?;
    Ok((envelope.from, envelope.broadcast))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatter_core::CallId;
    use chatter_core::model::{ChatEvent, ChatEventKind, Message};
    use chatter_core::protocol::ws::{CallEvent, CallSignal, ServerMessage};
    use chatter_core::service::Notice;
    use chatter_core::{ChatId, MessageId, UserId};

    #[test]
    fn every_kind_of_broadcast_comes_back_as_it_went() {
        let chat_id = ChatId::new("c1");
        let user_id = UserId::new("u1");
        let message = Message {
            id: MessageId::new("m1"),
            chat_id: chat_id.clone(),
            seq: 7,
            sender_id: user_id.clone(),
            text: "hello \"you\" ✓".into(),
            reply_to: None,
            client_id: Some("k1".into()),
            created_at: chatter_core::Timestamp::from_micros(1_700_000_000_000_000),
            edited_at: None,
            deleted: false,
        };
        let broadcasts = [
            Broadcast::Notice(Notice::Chat(ChatEvent {
                chat_id: chat_id.clone(),
                event_seq: 9,
                kind: ChatEventKind::MessageCreated { message },
            })),
            Broadcast::Notice(Notice::ChatRemoved { user_id: user_id.clone(), chat_id: chat_id.clone() }),
            Broadcast::Notice(Notice::Read { chat_id: chat_id.clone(), user_id: user_id.clone(), seq: 3 }),
            Broadcast::Typing { chat_id: chat_id.clone(), user_id: user_id.clone() },
            Broadcast::Presence { user_id: user_id.clone(), online: true, audience: vec![UserId::new("u2")] },
            Broadcast::Head { chat_id: chat_id.clone(), event_seq: 12 },
            Broadcast::CatchUp,
            Broadcast::ToSession {
                session_id: chatter_core::SessionId::new("s1"),
                message: ServerMessage::CallSignal(CallSignal::Offer {
                    call_id: CallId::new("k"),
                    sdp: "v=0\r\n".into(),
                }),
            },
            Broadcast::ToSession {
                session_id: chatter_core::SessionId::new("s1"),
                message: ServerMessage::Call(CallEvent::ParticipantLeft {
                    call_id: CallId::new("k"),
                    participant_id: chatter_core::ParticipantId::new("p"),
                    reason: chatter_core::protocol::CallLeaveReason::IceFailed,
                }),
            },
            Broadcast::SocketsAsked { from: "n2".into(), sessions: vec![chatter_core::SessionId::new("s1")] },
            Broadcast::SocketsHeld { to: "n2".into(), sessions: vec![chatter_core::SessionId::new("s1")] },
            Broadcast::ToChat {
                chat_id: chat_id.clone(),
                message: ServerMessage::CallEnded { chat_id, call_id: CallId::new("k") },
            },
        ];
        for b in broadcasts {
            let bytes = encode("n1", &b).unwrap();
            assert_eq!(decode(&bytes).unwrap(), ("n1".to_owned(), b));
        }
        assert!(decode(br#"{"from":"n","broadcast":{"broadcast":"nope"}}"#).is_err());
    }
}
