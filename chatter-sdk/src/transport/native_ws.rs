//! WebSockets over tokio-tungstenite.

use super::tls::ExtraRoots;
use super::{TransportError, WebSocket, WebSocketConnector, WsEvent};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens WebSockets with tokio-tungstenite: `ws://`, and `wss://` over rustls trusting
/// Mozilla's roots (and any added with [`ClientBuilder::add_root_certificate_pem`]).
///
/// [`ClientBuilder::add_root_certificate_pem`]: crate::ClientBuilder::add_root_certificate_pem
///
/// ```no_run
/// # fn demo() {
/// use chatter_sdk::transport::TungsteniteConnector;
/// let client = chatter_sdk::Client::builder()
///     .server("http://127.0.0.1:8080")
///     .websocket_connector(TungsteniteConnector::default());
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct TungsteniteConnector {
    /// The TLS configuration of `wss://` (built on first use without extra roots).
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl TungsteniteConnector {
    /// A connector that also trusts `roots`.
    pub(crate) fn trusting(roots: &ExtraRoots) -> Result<Self, TransportError> {
        Ok(Self { tls: Some(roots.client_config()?) })
    }
}

#[async_trait::async_trait]
impl WebSocketConnector for TungsteniteConnector {
    async fn connect(&self, url: &str) -> Result<Box<dyn WebSocket>, TransportError> {
        let tls = match &self.tls {
            Some(tls) => tls.clone(),
            None => default_tls()?,
        };
        let connector = tokio_tungstenite::Connector::Rustls(tls);
        // TCP_NODELAY: with Nagle, a small frame (a pong, a typing notice) can hold the
        // next one until the server's delayed ACK, ~40 ms later.
        let (stream, _) = tokio_tungstenite::connect_async_tls_with_config(url, None, true, Some(connector))
            .await
            .map_err(|e| TransportError(e.to_string()))?;
        Ok(Box::new(TungsteniteSocket { stream, closed: None }))
    }
}

/// The TLS configuration with the built-in roots only, built once (every reconnect of
/// every default connector would otherwise copy Mozilla's roots again).
fn default_tls() -> Result<Arc<rustls::ClientConfig>, TransportError> {
    static DEFAULT: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    if let Some(config) = DEFAULT.get() {
        return Ok(config.clone());
    }
    let config = ExtraRoots::default().client_config()?;
    Ok(DEFAULT.get_or_init(|| config).clone())
}

struct TungsteniteSocket {
    stream: Stream,
    closed: Option<WsEvent>,
}

fn closed(frame: Option<CloseFrame>) -> WsEvent {
    match frame {
        Some(f) => WsEvent::Closed { code: Some(u16::from(f.code)), reason: f.reason.to_string() },
        None => WsEvent::Closed { code: None, reason: String::new() },
    }
}

#[async_trait::async_trait]
impl WebSocket for TungsteniteSocket {
    async fn send(&mut self, text: String) -> Result<(), TransportError> {
        self.stream.send(Message::text(text)).await.map_err(|e| TransportError(e.to_string()))
    }

    async fn receive(&mut self) -> WsEvent {
        if let Some(event) = &self.closed {
            return event.clone();
        }
        loop {
            let event = match self.stream.next().await {
                Some(Ok(Message::Text(text))) => return WsEvent::Text(text.to_string()),
                // Pings are answered by tungstenite itself; binary frames are not ours.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(frame))) => closed(frame),
                Some(Err(e)) => WsEvent::Closed { code: None, reason: e.to_string() },
                None => closed(None),
            };
            self.closed = Some(event.clone());
            return event;
        }
    }

    async fn close(&mut self) {
        let _ = self.stream.close(None).await;
    }
}
