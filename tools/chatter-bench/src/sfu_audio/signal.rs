//! A simulated participant's signalling: its session's WebSocket, its join over HTTP,
//! and the SDP exchange between the SFU and its `Rtc` in the load task. The socket is
//! read to the end (everyone's join and leave events arrive on it), so the server never
//! finds it slow.

use super::load::Load;
use crate::BenchError;
use crate::targets;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Where the participants go.
#[derive(Debug, Clone)]
pub struct Venue {
    /// The server's HTTP base URL.
    pub base: String,
    /// Its WebSocket URL.
    pub ws_url: String,
    /// The chat whose call they join.
    pub chat_id: String,
}

/// Joins the call with session `token`: opens its socket, joins, sends the first offer,
/// and leaves a task answering the SFU for as long as the socket lives. Answers the
/// participant's index in the load.
pub async fn join(
    http: &reqwest::Client,
    venue: &Venue,
    load: &Load,
    token: &str,
    publish: bool,
) -> Result<usize, BenchError> {
    let connect = |e: &dyn std::fmt::Display| BenchError::Connect(e.to_string());
    let mut request = venue.ws_url.as_str().into_client_request().map_err(|e| connect(&e))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| connect(&e))?;
    request.headers_mut().insert("authorization", bearer);
    let (socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| connect(&e))?;
    let (mut tx, mut rx) = socket.split();
    let joined =
        targets::post(http, format!("{}/v1/chats/{}/call", venue.base, venue.chat_id), Some(token), json!({})).await?;
    let call_id = joined["call_id"].as_str().unwrap_or_default().to_owned();
    let (member, offer) = load.add(publish).await.map_err(|e| connect(&e))?;
    let first = json!({"type": "call.offer", "call_id": call_id, "sdp": offer}).to_string();
    tx.send(Message::text(first)).await.map_err(|e| connect(&e))?;
    let load = load.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = rx.next().await {
            let Message::Text(text) = message else { continue };
            let is = |kind: &str| text.contains(&format!("\"type\":\"{kind}\""));
            if !is("call.answer") && !is("call.offer") {
                continue;
            }
            let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
            let sdp = frame["sdp"].as_str().unwrap_or_default().to_owned();
            let outcome = match frame["type"].as_str() {
                Some("call.answer") => load.answer(member, sdp).await,
                Some("call.offer") => match load.offer(member, sdp).await {
                    Ok(answer) => {
                        let reply = json!({"type": "call.answer", "call_id": call_id, "sdp": answer});
                        tx.send(Message::text(reply.to_string())).await.map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e),
                },
                _ => Ok(()),
            };
            if let Err(e) = outcome {
                eprintln!("sfu-audio: participant {member}: {e}");
            }
        }
    });
    Ok(member)
}
