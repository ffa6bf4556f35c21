//! The servers under test: a chatter-server process, and the `ws` peer under node.
//! Each is its own process, so its CPU and memory can be read from /proc.

use crate::BenchError;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server and what the load needs to use it.
#[derive(Debug)]
pub struct Target {
    /// Its name in the report.
    pub name: String,
    /// Its process.
    child: Child,
    /// The HTTP base URL.
    pub base: String,
    /// The WebSocket URL.
    pub ws_url: String,
    /// The chat to post in.
    pub chat_id: String,
    /// Headers for the sender's socket.
    pub sender_headers: Vec<(String, String)>,
    /// Headers for subscribers' sockets.
    pub subscriber_headers: Vec<(String, String)>,
    _data: Option<tempfile::TempDir>,
}

impl Target {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, BenchError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

async fn wait_healthy(base: &str, name: &str) -> Result<(), BenchError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(BenchError::Start(name.to_owned(), "not healthy within 30 s".into()))
}

pub async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Result<Value, BenchError> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.map_err(|e| BenchError::Setup(e.to_string()))?;
    let status = r.status();
    let body: Value = r.json().await.map_err(|e| BenchError::Setup(e.to_string()))?;
    if !status.is_success() {
        return Err(BenchError::Setup(format!("{status}: {body}")));
    }
    Ok(body)
}

/// Starts chatter-server as `name` on a free port and a fresh data dir, with `extra`
/// flags; answers once it is healthy.
pub async fn node(bin: &Path, name: &str, extra: &[String]) -> Result<Target, BenchError> {
    let port = free_port()?;
    let data = tempfile::tempdir()?;
    let child = Command::new(bin)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--log", "warn"])
        .arg("--data-dir")
        .arg(data.path())
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| BenchError::Start(format!("{name} ({})", bin.display()), e.to_string()))?;
    let base = format!("http://127.0.0.1:{port}");
    let target = Target {
        name: name.to_owned(),
        child,
        ws_url: format!("ws://127.0.0.1:{port}/v1/ws"),
        base,
        chat_id: String::new(),
        sender_headers: Vec::new(),
        subscriber_headers: Vec::new(),
        _data: Some(data),
    };
    wait_healthy(&target.base, name).await?;
    Ok(target)
}

/// Starts chatter-server on a fresh data dir, with a sender and a subscriber account
/// (every subscriber socket is a session of the one subscriber account).
pub async fn chatter(bin: &Path, subscribers: usize, extra: &str) -> Result<Target, BenchError> {
    let mut flags = vec![
        "--max-connections-per-user".to_owned(),
        (subscribers + 10).to_string(),
        "--max-connections".to_owned(),
        (subscribers + 100).to_string(),
    ];
    flags.extend(extra.split_whitespace().map(str::to_owned));
    let mut target = node(bin, "chatter", &flags).await?;
    let base = target.base.clone();
    let http = reqwest::Client::new();
    let register = |name: &str| {
        post(&http, format!("{base}/v1/users"), None, json!({"username": name, "password": "bench password"}))
    };
    let sender = register("bench-sender").await?;
    let subscriber = register("bench-subscriber").await?;
    let token = |v: &Value| v["token"].as_str().unwrap_or_default().to_owned();
    let chat = post(
        &http,
        format!("{base}/v1/chats"),
        Some(&token(&sender)),
        json!({"kind": "group", "title": "fanout", "visibility": "private", "members": [subscriber["user"]["id"]]}),
    )
    .await?;
    target.chat_id = chat["id"].as_str().unwrap_or_default().to_owned();
    target.sender_headers = vec![("authorization".into(), format!("Bearer {}", token(&sender)))];
    target.subscriber_headers = vec![("authorization".into(), format!("Bearer {}", token(&subscriber)))];
    Ok(target)
}

/// Starts the `ws` peer (node) with its script.
pub async fn ws_peer(script: &str) -> Result<Target, BenchError> {
    let name = "ws (node)".to_owned();
    let port = free_port()?;
    let child = Command::new("node")
        .arg(script)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| BenchError::Start(name.clone(), e.to_string()))?;
    let base = format!("http://127.0.0.1:{port}");
    let target = Target {
        name,
        child,
        ws_url: format!("ws://127.0.0.1:{port}/v1/ws"),
        base: base.clone(),
        chat_id: "bench".into(),
        sender_headers: Vec::new(),
        subscriber_headers: Vec::new(),
        _data: None,
    };
    wait_healthy(&base, &target.name).await?;
    Ok(target)
}
