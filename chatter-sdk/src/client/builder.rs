//! Building a [`Client`].

use super::{Client, ClientInner};
use crate::api::Api;
use crate::error::{Result, SdkError};
use crate::send_queue::{MemorySendQueueStore, SendQueueStore};
use crate::session::{MemorySessionStore, SessionStore};
use crate::state::StateCell;
use crate::sync::handle::SyncState;
use crate::transport::{DefaultConnector, HttpTransport, ReqwestTransport, WebSocketConnector};
use eyeball::SharedObservable;
use std::sync::{Arc, Mutex, RwLock};

/// Configures a [`Client`]: the server, and optionally where the session and the send
/// queue are kept and how the server is reached.
///
/// ```no_run
/// # async fn demo() -> chatter_sdk::Result<()> {
/// use chatter_sdk::Client;
/// use chatter_sdk::send_queue::FileSendQueueStore;
/// use chatter_sdk::session::FileSessionStore;
///
/// let client = Client::builder()
///     .server("http://127.0.0.1:8080")
///     .session_store(FileSessionStore::new("session.json"))
///     .send_queue_store(FileSendQueueStore::new("outbox.json"))
///     .device_name("laptop")
///     .build()
///     .await?;
/// // Logged in already if session.json holds a session.
/// println!("{:?}", client.user_id());
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct ClientBuilder {
    server: Option<String>,
    http: Option<Arc<dyn HttpTransport>>,
    ws: Option<Arc<dyn WebSocketConnector>>,
    session_store: Option<Arc<dyn SessionStore>>,
    queue_store: Option<Arc<dyn SendQueueStore>>,
    device_name: Option<String>,
    cookie_session: bool,
    #[cfg(not(target_family = "wasm"))]
    runtime: Option<tokio::runtime::Handle>,
    #[cfg(not(target_family = "wasm"))]
    roots: crate::transport::tls::ExtraRoots,
}

impl ClientBuilder {
    /// Runs the client's background tasks (sync, calls) on `runtime` (default: the
    /// runtime `build` is awaited in). With it, `start_sync` may be called from any
    /// thread, a runtime's or not.
    ///
    /// ```no_run
    /// # fn demo() -> chatter_sdk::Result<()> {
    /// let runtime = tokio::runtime::Runtime::new().expect("runtime");
    /// let client = runtime.block_on(
    ///     chatter_sdk::Client::builder().server("http://127.0.0.1:8080").runtime(runtime.handle().clone()).build(),
    /// )?;
    /// client.start_sync(); // from a thread outside the runtime
    /// # Ok(()) }
    /// ```
    #[cfg(not(target_family = "wasm"))]
    pub fn runtime(mut self, runtime: tokio::runtime::Handle) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// The server's base URL, e.g. `http://127.0.0.1:8080` or `https://chat.example.com`.
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// let client = chatter_sdk::Client::builder().server("https://chat.example.com").build().await?;
    /// # Ok(()) }
    /// ```
    pub fn server(mut self, url: impl Into<String>) -> Self {
        self.server = Some(url.into());
        self
    }

    /// Also trusts the root certificates of `pem` (the contents of a PEM file) for
    /// `https://` and `wss://`, besides Mozilla's roots: for a server whose certificate
    /// a company's own CA signed. Applies to the default transports only.
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// let ca = std::fs::read("company-ca.pem").expect("the CA's certificate");
    /// let client = chatter_sdk::Client::builder()
    ///     .server("https://chat.internal.example")
    ///     .add_root_certificate_pem(&ca)?
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(not(target_family = "wasm"))]
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self> {
        self.roots.add_pem(pem).map_err(|e| SdkError::InvalidRequest(e.0))?;
        Ok(self)
    }

    /// Sends HTTP requests through `transport` instead of reqwest.
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// use chatter_sdk::transport::ReqwestTransport;
    /// let client = chatter_sdk::Client::builder().server("http://127.0.0.1:8080").http_transport(ReqwestTransport::new()).build().await?;
    /// # Ok(()) }
    /// ```
    pub fn http_transport(mut self, transport: impl HttpTransport + 'static) -> Self {
        self.http = Some(Arc::new(transport));
        self
    }

    /// Opens WebSockets through `connector` instead of the platform's default.
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// use chatter_sdk::transport::DefaultConnector;
    /// let client = chatter_sdk::Client::builder().server("http://127.0.0.1:8080").websocket_connector(DefaultConnector::default()).build().await?;
    /// # Ok(()) }
    /// ```
    pub fn websocket_connector(mut self, connector: impl WebSocketConnector + 'static) -> Self {
        self.ws = Some(Arc::new(connector));
        self
    }

    /// Keeps the session in `store` (default: in memory).
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// use chatter_sdk::session::MemorySessionStore;
    /// let client = chatter_sdk::Client::builder().server("http://127.0.0.1:8080").session_store(MemorySessionStore::default()).build().await?;
    /// # Ok(()) }
    /// ```
    pub fn session_store(mut self, store: impl SessionStore + 'static) -> Self {
        self.session_store = Some(Arc::new(store));
        self
    }

    /// Keeps unsent messages in `store` (default: in memory).
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// use chatter_sdk::send_queue::MemorySendQueueStore;
    /// let client = chatter_sdk::Client::builder().server("http://127.0.0.1:8080").send_queue_store(MemorySendQueueStore::default()).build().await?;
    /// # Ok(()) }
    /// ```
    pub fn send_queue_store(self, store: impl SendQueueStore + 'static) -> Self {
        self.send_queue_store_arc(Arc::new(store))
    }

    fn send_queue_store_arc(mut self, store: Arc<dyn SendQueueStore>) -> Self {
        self.queue_store = Some(store);
        self
    }

    /// The device name sessions are created with (shown in the session list).
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// let client = chatter_sdk::Client::builder().server("http://127.0.0.1:8080").device_name("Alice's phone").build().await?;
    /// # Ok(()) }
    /// ```
    pub fn device_name(mut self, name: impl Into<String>) -> Self {
        self.device_name = Some(name.into());
        self
    }

    /// Keeps the session in the server's HttpOnly cookie instead of a bearer token (in a
    /// browser, for an app served from the server's own origin): script never holds the
    /// token, and the session store keeps only the user and session ids. Requests go with
    /// the browser's credentials; the socket is authenticated by the cookie.
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// let client = chatter_sdk::Client::builder().server("https://chat.example.org").cookie_session().build().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(target_family = "wasm")]
    pub fn cookie_session(mut self) -> Self {
        self.cookie_session = true;
        self
    }

    /// Builds the client, restoring the saved session and send queue, if any.
    ///
    /// ```no_run
    /// # async fn demo() -> chatter_sdk::Result<()> {
    /// let client = chatter_sdk::Client::builder().server("http://127.0.0.1:8080").build().await?;
    /// assert!(client.user_id().is_none(), "no saved session: log in next");
    /// # Ok(()) }
    /// ```
    pub async fn build(self) -> Result<Client> {
        let server = self.server.ok_or_else(|| SdkError::InvalidRequest("no server URL given".into()))?;
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(SdkError::InvalidRequest(format!(
                "the server URL must start with http:// or https://: {server}"
            )));
        }
        #[cfg(not(target_family = "wasm"))]
        let (default_http, default_ws) = {
            let tls = |e: crate::transport::TransportError| SdkError::InvalidRequest(e.0);
            (
                ReqwestTransport::trusting(&self.roots).map_err(tls)?,
                DefaultConnector::trusting(&self.roots).map_err(tls)?,
            )
        };
        #[cfg(target_family = "wasm")]
        let (default_http, default_ws) = (
            if self.cookie_session { ReqwestTransport::with_credentials() } else { ReqwestTransport::new() },
            DefaultConnector::default(),
        );
        let http = self.http.unwrap_or_else(|| Arc::new(default_http));
        let session_store = self.session_store.unwrap_or_else(|| Arc::new(MemorySessionStore::default()));
        let queue_store = self.queue_store.unwrap_or_else(|| Arc::new(MemorySendQueueStore::default()));
        #[cfg(not(target_family = "wasm"))]
        let spawner = crate::platform::Spawner::new(self.runtime)?;
        #[cfg(target_family = "wasm")]
        let spawner = crate::platform::Spawner::new()?;
        let inner = ClientInner {
            api: Api::new(server, http),
            ws: self.ws.unwrap_or_else(|| Arc::new(default_ws)),
            session: RwLock::new(None),
            session_store,
            queue_store,
            device_name: self.device_name,
            cookie_session: self.cookie_session,
            state: StateCell::default(),
            sync_state: SharedObservable::new(SyncState::Idle),
            sync_generation: std::sync::atomic::AtomicU64::new(0),
            sync: Mutex::new(None),
            persisting: tokio::sync::Mutex::new(()),
            calls: crate::call_router::CallRouter::default(),
            spawner,
        };
        let client = Client::from_inner(inner);
        let queue = client.inner.queue_store.load().await?;
        client.inner.state().load_queue(queue);
        if let Some(session) = client.inner.session_store.load().await? {
            client.inner.use_session(Some(session));
        }
        Ok(client)
    }
}
