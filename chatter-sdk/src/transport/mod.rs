//! How the SDK reaches the server: HTTP requests and a WebSocket, behind traits so an
//! app (or a test) can supply its own. The defaults: reqwest for HTTP (its wasm32 build
//! is the browser's `fetch`), tokio-tungstenite natively and the browser's `WebSocket`
//! on wasm32.

mod http;
#[cfg(not(target_family = "wasm"))]
mod native_ws;
#[cfg(not(target_family = "wasm"))]
pub(crate) mod tls;
#[cfg(target_family = "wasm")]
mod wasm_ws;

use crate::platform::{SendOutsideWasm, SyncOutsideWasm};
use std::time::Duration;

pub use http::ReqwestTransport;
#[cfg(not(target_family = "wasm"))]
pub use native_ws::TungsteniteConnector;
#[cfg(target_family = "wasm")]
pub use wasm_ws::BrowserWebSocketConnector;

/// The default WebSocket connector of this platform.
#[cfg(not(target_family = "wasm"))]
///
/// ```no_run
/// # async fn demo() -> Result<(), chatter_sdk::transport::TransportError> {
/// use chatter_sdk::transport::{DefaultConnector, WebSocketConnector};
/// let socket = DefaultConnector::default().connect("ws://127.0.0.1:8080/v1/ws").await?;
/// # Ok(()) }
/// ```
pub type DefaultConnector = TungsteniteConnector;
/// The default WebSocket connector of this platform.
#[cfg(target_family = "wasm")]
pub type DefaultConnector = BrowserWebSocketConnector;

/// A transport failure: the request or connection did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
///
/// ```no_run
/// # fn demo() {
/// let e = chatter_sdk::transport::TransportError("connection refused".into());
/// assert_eq!(e.to_string(), "connection refused");
/// # }
/// ```
pub struct TransportError(pub String);

/// HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
///
/// ```no_run
/// # fn demo() {
/// use chatter_sdk::transport::{HttpRequest, Method};
/// let request = HttpRequest { method: Method::Get, url: "http://127.0.0.1:8080/healthz".into(), bearer: None, body: None };
/// # }
/// ```
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

/// One HTTP request to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// ```no_run
/// # fn demo() {
/// use chatter_sdk::transport::{HttpRequest, Method};
/// let request = HttpRequest {
///     method: Method::Post,
///     url: "http://127.0.0.1:8080/v1/sessions".into(),
///     bearer: None,
///     body: Some(r#"{"username":"alice","password":"correct horse battery"}"#.into()),
/// };
/// # }
/// ```
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The whole URL, query included.
    pub url: String,
    /// The bearer token, if the call is authenticated.
    pub bearer: Option<String>,
    /// A JSON body.
    pub body: Option<String>,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// ```no_run
/// # fn demo() {
/// use chatter_sdk::transport::HttpResponse;
/// let answer = HttpResponse { status: 204, retry_after: None, body: String::new() };
/// assert!((200..300).contains(&answer.status));
/// # }
/// ```
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The `Retry-After` header, in seconds.
    pub retry_after: Option<Duration>,
    /// The body as text (empty for 204).
    pub body: String,
}

/// Sends HTTP requests.
///
/// ```
/// use chatter_sdk::transport::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
///
/// /// A transport that answers every request with 503, e.g. to test offline behaviour.
/// #[derive(Debug)]
/// struct Down;
///
/// #[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
/// #[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
/// impl HttpTransport for Down {
///     async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
///         Err(TransportError("offline".into()))
///     }
/// }
/// ```
#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
pub trait HttpTransport: SendOutsideWasm + SyncOutsideWasm + std::fmt::Debug {
    /// Sends `request` and reads the whole answer.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// What a WebSocket delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// ```no_run
/// # fn demo() {
/// use chatter_sdk::transport::WsEvent;
/// let event = WsEvent::Closed { code: Some(4001), reason: "session ended".into() };
/// assert!(matches!(event, WsEvent::Closed { code: Some(4001), .. }));
/// # }
/// ```
pub enum WsEvent {
    /// A text frame.
    Text(String),
    /// The connection closed, with the server's code if it sent one.
    Closed {
        /// The close code (4001: the session ended; others: reconnect).
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
}

/// Opens WebSockets.
#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
///
/// ```no_run
/// # async fn demo() -> Result<(), chatter_sdk::transport::TransportError> {
/// use chatter_sdk::transport::{DefaultConnector, WebSocketConnector};
/// let mut socket = DefaultConnector::default().connect("ws://127.0.0.1:8080/v1/ws").await?;
/// # Ok(()) }
/// ```
pub trait WebSocketConnector: SendOutsideWasm + SyncOutsideWasm + std::fmt::Debug {
    /// Connects to `url` (`ws://` or `wss://`).
    async fn connect(&self, url: &str) -> Result<Box<dyn WebSocket>, TransportError>;
}

/// An open WebSocket.
#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
///
/// ```no_run
/// # async fn demo() -> Result<(), chatter_sdk::transport::TransportError> {
/// use chatter_sdk::transport::{DefaultConnector, WebSocketConnector, WsEvent};
/// let mut socket = DefaultConnector::default().connect("ws://127.0.0.1:8080/v1/ws").await?;
/// socket.send(r#"{"type":"auth","token":"..."}"#.into()).await?;
/// if let WsEvent::Text(ready) = socket.receive().await {
///     println!("{ready}");
/// }
/// socket.close().await;
/// # Ok(()) }
/// ```
pub trait WebSocket: SendOutsideWasm {
    /// Sends a text frame.
    async fn send(&mut self, text: String) -> Result<(), TransportError>;
    /// The next text frame or the close; must be cancel-safe (it is raced against
    /// outgoing frames), and answers `Closed` forever once closed.
    async fn receive(&mut self) -> WsEvent;
    /// Closes the connection normally.
    async fn close(&mut self);
}
