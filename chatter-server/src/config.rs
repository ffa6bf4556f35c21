//! Server configuration: command-line flags, each with an environment variable.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How to run a Chatter server.
#[derive(Parser, Clone, Debug)]
#[command(
    name = "chatter-server",
    version,
    about = "Chatter: group chat and calls. Starts with zero set-up: \
SQLite under the data dir, the web app at the listen address."
)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "CHATTER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Folder for the embedded database (created if missing).
    #[arg(long, env = "CHATTER_DATA_DIR", default_value = "./chatter-data")]
    pub data_dir: PathBuf,

    /// An Origin allowed for cookie-authenticated writes besides the server's own
    /// (repeatable; the env var takes a comma-separated list).
    #[arg(
        long = "allowed-origin",
        env = "CHATTER_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Mark the session cookie `Secure` (set this when TLS ends at a proxy in front).
    #[arg(long, env = "CHATTER_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Days a session may go unused before it expires.
    #[arg(long, env = "CHATTER_SESSION_TTL_DAYS", default_value_t = 30)]
    pub session_ttl_days: u32,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CHATTER_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,

    /// Password hashes computed at once (default: the number of CPUs).
    #[arg(long, env = "CHATTER_HASH_WORKERS")]
    pub hash_workers: Option<usize>,

    /// Password hashes allowed to wait for a worker before requests get 429.
    #[arg(long, env = "CHATTER_HASH_QUEUE", default_value_t = 64)]
    pub hash_queue: usize,

    /// Log filter (tracing's env-filter syntax), e.g. `info` or `chatter_server=debug`.
    #[arg(long, env = "CHATTER_LOG", default_value = "info")]
    pub log: String,
}

impl Config {
    /// The defaults, as `chatter-server` with no flags and no environment would use.
    pub fn defaults() -> Self {
        Self::parse_from(["chatter-server"])
    }
}
