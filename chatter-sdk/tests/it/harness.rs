//! A real server in-process on 127.0.0.1:0, a TCP proxy in front of it that can cut
//! every connection on demand, and helpers to wait for observable state.

use chatter_sdk::transport::{HttpRequest, HttpResponse, HttpTransport, ReqwestTransport, TransportError};
use chatter_sdk::{Client, ClientBuilder};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// A running server over a temp data dir.
pub struct Server {
    pub addr: std::net::SocketAddr,
    /// The server's state (its SFU's live objects, say).
    pub state: chatter_server::AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    pub data_dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
        Self::start_in(tempfile::tempdir().expect("temp dir"), None).await
    }

    /// Starts a server on `data_dir`, on `addr` when given (to restart on the same port).
    pub async fn start_in(data_dir: tempfile::TempDir, addr: Option<std::net::SocketAddr>) -> Self {
        Self::start_configured(data_dir, addr, |_| {}).await
    }

    /// Starts a server with its configuration adjusted by `adjust`.
    pub async fn start_configured(
        data_dir: tempfile::TempDir,
        addr: Option<std::net::SocketAddr>,
        adjust: impl FnOnce(&mut chatter_server::ServerConfig),
    ) -> Self {
        let mut config = chatter_server::ServerConfig::default();
        config.store.data_dir = data_dir.path().to_owned();
        adjust(&mut config);
        let bind = addr.unwrap_or_else(|| "127.0.0.1:0".parse().expect("addr"));
        let listener = bind_retrying(bind).await;
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let state = chatter_server::AppState::open(config).await.expect("server state");
        let serving = state.clone();
        let task = tokio::spawn(async move {
            chatter_server::serve(serving, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        let server = Self { addr, state, stop: Some(stop), task: Some(task), data_dir };
        wait_until("the server answers", Duration::from_secs(10), || std::net::TcpStream::connect(addr).is_ok()).await;
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and hands back its data dir (to start it again).
    pub async fn stop(mut self) -> (tempfile::TempDir, std::net::SocketAddr) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().expect("temp dir"));
        (dir, self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn bind_retrying(addr: std::net::SocketAddr) -> TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return l,
            Err(e) if Instant::now() > deadline => panic!("cannot bind {addr}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// A TCP proxy to a server; `cut()` drops every connection through it at once, and
/// `hold(true)` refuses new ones until `hold(false)`.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    generation: watch::Sender<u64>,
    held: Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    pub async fn start(upstream: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (generation, _) = watch::channel(0u64);
        let cuts = generation.subscribe();
        let held = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let refusing = held.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if refusing.load(Ordering::SeqCst) {
                    continue;
                }
                let mut cuts = cuts.clone();
                cuts.mark_unchanged();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    tokio::select! {
                        _ = tokio::io::copy(&mut cr, &mut sw) => {}
                        _ = tokio::io::copy(&mut sr, &mut cw) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { addr, generation, held }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every open connection (new ones go through).
    pub fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// Refuses new connections (closes them at once) while `on`.
    pub fn hold(&self, on: bool) {
        self.held.store(on, Ordering::SeqCst);
    }
}

/// Counts the HTTP requests a client makes, by path.
#[derive(Debug, Default)]
pub struct CountingTransport {
    inner: ReqwestTransport,
    pub requests: Arc<std::sync::Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl HttpTransport for CountingTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let path = request.url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap_or_default();
        self.requests.lock().expect("lock").push(format!("{:?} {path}", request.method));
        self.inner.send(request).await
    }
}

/// A client builder for `url`.
pub fn builder(url: &str) -> ClientBuilder {
    Client::builder().server(url)
}

/// A new client registered as `name` (password "password for <name>").
pub async fn user(url: &str, name: &str) -> Client {
    let client = builder(url).build().await.expect("client");
    client.register(name, &password(name), None).await.expect("register");
    client
}

pub fn password(name: &str) -> String {
    format!("password for {name}")
}

/// Polls `condition` every 20 ms until it holds, or fails the test after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Counts the WebSocket connections a client opens.
#[derive(Debug, Default)]
pub struct CountingConnector {
    inner: chatter_sdk::transport::TungsteniteConnector,
    pub opened: Arc<AtomicU64>,
}

#[async_trait::async_trait]
impl chatter_sdk::transport::WebSocketConnector for CountingConnector {
    async fn connect(&self, url: &str) -> Result<Box<dyn chatter_sdk::transport::WebSocket>, TransportError> {
        let socket = self.inner.connect(url).await?;
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(socket)
    }
}

/// A small deterministic random source for tests.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}
