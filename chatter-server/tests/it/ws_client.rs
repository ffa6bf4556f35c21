//! A WebSocket test client over tokio-tungstenite.

use crate::harness::{Server, TestUser};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connected socket.
pub struct Ws {
    pub socket: Socket,
}

/// How a connection attempt ended before any frame.
#[derive(Debug)]
pub enum Refused {
    /// The upgrade got this HTTP status.
    Http(u16),
    /// Anything else.
    #[allow(dead_code)] // read through Debug in assertion messages
    Other(String),
}

pub fn ws_url(server: &Server) -> String {
    format!("{}/v1/ws", server.base.replacen("http://", "ws://", 1))
}

/// Opens a socket with these extra headers (no `ready` awaited).
pub async fn open(server: &Server, headers: &[(&str, &str)]) -> Result<Ws, Refused> {
    let mut request = ws_url(server).into_client_request().expect("request");
    for (k, v) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            v.parse().expect("header value"),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(Ws { socket }),
        Err(WsError::Http(r)) => Err(Refused::Http(r.status().as_u16())),
        Err(e) => Err(Refused::Other(e.to_string())),
    }
}

impl Ws {
    /// Opens a socket as `user` (bearer header), waits for `ready`, and starts live
    /// events at once with an empty `resume` (as a client with nothing to catch up on).
    pub async fn connect(server: &Server, user: &TestUser) -> Ws {
        let mut ws = Self::connect_quietly(server, user).await;
        let ready = ws.next_of("ready").await;
        assert_eq!(ready["user_id"], user.id.as_str());
        ws.send(serde_json::json!({"type": "resume", "chats": {}})).await;
        ws.next_of("resumed").await;
        ws
    }

    /// Opens a socket as `user` without reading anything.
    pub async fn connect_quietly(server: &Server, user: &TestUser) -> Ws {
        let auth = format!("Bearer {}", user.token);
        open(server, &[("authorization", &auth)]).await.expect("socket opens")
    }

    pub async fn send(&mut self, frame: Value) {
        self.socket.send(Message::text(frame.to_string())).await.expect("frame sent");
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.expect("frame sent");
    }

    /// The next JSON frame within `wait`, skipping pings; `None` on timeout.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.socket.next()).await {
                Err(_) => return None,
                Ok(None) => panic!("socket ended while a frame was expected"),
                Ok(Some(Err(e))) => panic!("socket error while a frame was expected: {e}"),
                Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(t.as_str()).expect("JSON frame")),
                Ok(Some(Ok(Message::Close(c)))) => panic!("socket closed while a frame was expected: {c:?}"),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next JSON frame (5 s at most).
    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5)).await.expect("a frame within 5 s")
    }

    /// The next frame of this type, skipping others (5 s at most).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_within(left).await.unwrap_or_else(|| panic!("no {kind} frame within 5 s"));
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts no frame (but pings) arrives for `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(frame) = self.next_within(wait).await {
            panic!("expected silence, got {frame}");
        }
    }

    /// Asserts no frame but `allowed` kinds (and pings) arrives for `wait`: for frames
    /// that may come at any time, such as a presence announced from another task.
    pub async fn expect_silence_but(&mut self, allowed: &[&str], wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                None => return,
                Some(frame) if allowed.iter().any(|k| frame["type"] == *k) => continue,
                Some(frame) => panic!("expected silence, got {frame}"),
            }
        }
    }

    /// Reads until the socket closes; answers the close code (frames before it are
    /// skipped). Panics if it stays open for `wait`.
    pub async fn closed_with(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) => panic!("socket still open after {wait:?}"),
                Ok(None) => return None,
                Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}
