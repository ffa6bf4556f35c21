//! The binary's command line: clap flags, each with a `CHATTER_*` environment variable,
//! mapped onto the library's [`ServerConfig`]. (A module of `main.rs` only: the
//! library never reads flags or the environment.)

use chatter_server::config::{
    AccountsConfig, CallsConfig, ClusterConfig, HttpConfig, RealtimeConfig, ServerConfig, StoreConfig,
};
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The command line (each flag also an environment variable).
#[derive(Parser, Clone, Debug)]
#[command(
    name = "chatter-server",
    version,
    about = "Chatter: group chat and calls. Starts with zero set-up: \
SQLite under the data dir, the web app at the listen address."
)]
pub struct Cli {
    /// Address and port to listen on.
    #[arg(long, env = "CHATTER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Folder for the embedded database (created if missing); unused with
    /// `--database-url`.
    #[arg(long, env = "CHATTER_DATA_DIR", default_value = "./chatter-data")]
    pub data_dir: PathBuf,

    /// Use Postgres instead of the embedded SQLite database, e.g.
    /// `postgres://chatter:secret@db.internal:5432/chatter` (migrations run at start-up).
    #[arg(long, env = "CHATTER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Use Redis to fan out events, typing and presence between nodes, e.g.
    /// `redis://redis.internal:6379` (without it, events stay on this node).
    #[arg(long, env = "CHATTER_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// The prefix of this deployment's keys and channel in Redis (deployments that share
    /// one Redis need different ones).
    #[arg(long, env = "CHATTER_REDIS_NAMESPACE", default_value = "chatter")]
    pub redis_namespace: String,

    /// Seconds after its last heartbeat in Redis that a node counts as dead: its users
    /// then show offline elsewhere (it beats every fifth of this).
    #[arg(long, env = "CHATTER_NODE_TTL_SECS", default_value_t = 10)]
    pub node_ttl_secs: u64,

    /// An Origin (`https://app.example.org`) allowed besides the server's own: for
    /// cookie-authenticated writes and sockets, and for cross-origin requests (CORS,
    /// credentials included). Repeatable; the env var takes a comma-separated list.
    #[arg(long = "allowed-origin", env = "CHATTER_ALLOWED_ORIGINS", value_delimiter = ',')]
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

    /// Milliseconds between WebSocket pings; a peer that misses two is closed.
    #[arg(long, env = "CHATTER_HEARTBEAT_MS", default_value_t = 25_000)]
    pub heartbeat_ms: u64,

    /// Frames a WebSocket may have queued, and events it may be behind in a chat, before
    /// it is closed as a slow consumer (4008).
    #[arg(long, env = "CHATTER_WS_QUEUE", default_value_t = 2048)]
    pub ws_queue: usize,

    /// Milliseconds a busy WebSocket waits after a write before the next one, so that
    /// events arriving meanwhile share one write (0: write each event at once).
    #[arg(long, env = "CHATTER_WS_FLUSH_MS", default_value_t = 30)]
    pub ws_flush_ms: u64,

    /// Open WebSockets allowed on this node; more are closed with 4029.
    #[arg(long, env = "CHATTER_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Open WebSockets allowed per user on this node; more are closed with 4029.
    #[arg(long, env = "CHATTER_MAX_CONNECTIONS_PER_USER", default_value_t = 32)]
    pub max_connections_per_user: usize,

    /// Where the calls' UDP socket binds; every participant on this node uses it
    /// (default: the listen address's IP and a free port).
    #[arg(long, env = "CHATTER_RTC_UDP_ADDR")]
    pub rtc_udp_addr: Option<SocketAddr>,

    /// The address clients send media to, put in the ICE candidate, when it differs from
    /// the bound one (NAT, a public IP): `IP` (the bound port) or `IP:PORT`.
    #[arg(long, env = "CHATTER_RTC_PUBLIC_ADDR", value_parser = parse_public_addr)]
    pub rtc_public_addr: Option<SocketAddr>,

    /// A STUN server URL handed to call clients, e.g. `stun:stun.example.org:3478`
    /// (repeatable; the env var takes a comma-separated list).
    #[arg(long = "stun-url", env = "CHATTER_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,

    /// A TURN server URL handed to call clients with time-limited credentials, e.g.
    /// `turn:turn.example.org:3478?transport=udp` (repeatable; needs `--turn-secret`).
    #[arg(long = "turn-url", env = "CHATTER_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,

    /// The secret shared with the TURN server (coturn's `static-auth-secret`).
    #[arg(long, env = "CHATTER_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// Seconds the TURN credentials handed out with a join stay valid.
    #[arg(long, env = "CHATTER_TURN_TTL_SECS", default_value_t = 12 * 3600)]
    pub turn_ttl_secs: u64,

    /// Participants allowed in one call.
    #[arg(long, env = "CHATTER_CALL_MAX_PARTICIPANTS", default_value_t = 50)]
    pub call_max_participants: usize,

    /// Seconds a call participant whose session has no open socket stays in the call.
    #[arg(long, env = "CHATTER_CALL_SOCKET_GRACE_SECS", default_value_t = 10)]
    pub call_socket_grace_secs: u64,

    /// Log filter (tracing's env-filter syntax), e.g. `info` or `chatter_server=debug`.
    #[arg(long, env = "CHATTER_LOG", default_value = "info")]
    pub log: String,
}

/// `IP` (port 0: the bound port) or `IP:PORT`.
fn parse_public_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse::<SocketAddr>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, 0)))
        .map_err(|_| format!("`{s}` is neither an IP address nor IP:PORT"))
}

impl Cli {
    /// The server's configuration these flags describe.
    pub fn config(&self) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.listen = self.listen;
        config.store = store(self);
        config.cluster = cluster(self);
        config.http = http(self);
        config.accounts = accounts(self);
        config.realtime = realtime(self);
        config.calls = calls(self);
        config
    }
}

fn store(cli: &Cli) -> StoreConfig {
    let mut store = StoreConfig::default();
    store.data_dir = cli.data_dir.clone();
    store.database_url = cli.database_url.clone();
    store
}

fn cluster(cli: &Cli) -> ClusterConfig {
    let mut cluster = ClusterConfig::default();
    cluster.redis_url = cli.redis_url.clone();
    cluster.redis_namespace = cli.redis_namespace.clone();
    cluster.node_ttl = Duration::from_secs(cli.node_ttl_secs.max(1));
    cluster
}

fn http(cli: &Cli) -> HttpConfig {
    let mut http = HttpConfig::default();
    http.allowed_origins = cli.allowed_origins.clone();
    http.secure_cookies = cli.secure_cookies;
    http.body_limit = cli.body_limit;
    http
}

fn accounts(cli: &Cli) -> AccountsConfig {
    let mut accounts = AccountsConfig::default();
    accounts.session_ttl = Duration::from_secs(u64::from(cli.session_ttl_days) * 86_400);
    accounts.hash_workers = cli.hash_workers;
    accounts.hash_queue = cli.hash_queue;
    accounts
}

fn realtime(cli: &Cli) -> RealtimeConfig {
    let mut realtime = RealtimeConfig::default();
    realtime.heartbeat = Duration::from_millis(cli.heartbeat_ms);
    realtime.queue = cli.ws_queue;
    realtime.flush = Duration::from_millis(cli.ws_flush_ms);
    realtime.max_connections = cli.max_connections;
    realtime.max_connections_per_user = cli.max_connections_per_user;
    realtime
}

fn calls(cli: &Cli) -> CallsConfig {
    let mut calls = CallsConfig::default();
    calls.udp_addr = cli.rtc_udp_addr;
    calls.public_addr = cli.rtc_public_addr;
    calls.stun_urls = cli.stun_urls.clone();
    calls.turn_urls = cli.turn_urls.clone();
    calls.turn_secret = cli.turn_secret.clone();
    calls.turn_ttl = Duration::from_secs(cli.turn_ttl_secs);
    calls.max_participants = cli.call_max_participants;
    calls.socket_grace = Duration::from_secs(cli.call_socket_grace_secs);
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("chatter-server").chain(args.iter().copied())).expect("flags parse")
    }

    /// With no flags (and no `CHATTER_*` variables) the binary runs the library's
    /// defaults: every flag's default is the library's.
    #[test]
    fn no_flags_give_the_library_defaults() {
        // Only the variables the flags read matter (the test command sets others).
        use clap::CommandFactory;
        let command = Cli::command();
        let read: Vec<_> = command.get_arguments().filter_map(|a| a.get_env()).collect();
        if read.iter().any(|name| std::env::var_os(name).is_some()) {
            return; // a developer's environment sets flags; the CLI would honour them
        }
        assert_eq!(parse(&[]).config(), ServerConfig::default());
    }

    #[test]
    fn the_public_rtc_address_takes_an_ip_or_ip_and_port() {
        let c = parse(&["--rtc-public-addr", "203.0.113.7"]).config();
        assert_eq!(c.calls.public_addr, Some("203.0.113.7:0".parse().expect("addr")));
        let c = parse(&["--rtc-public-addr", "203.0.113.7:40000"]).config();
        assert_eq!(c.calls.public_addr, Some("203.0.113.7:40000".parse().expect("addr")));
        assert!(Cli::try_parse_from(["chatter-server", "--rtc-public-addr", "example.org"]).is_err());
    }

    #[test]
    fn flags_map_onto_their_sections_and_origins_repeat() {
        let c = parse(&[
            "--listen",
            "0.0.0.0:9000",
            "--data-dir",
            "/tmp/x",
            "--allowed-origin",
            "https://a.example",
            "--allowed-origin",
            "https://b.example",
            "--database-url",
            "postgres://u@h/db",
            "--redis-url",
            "redis://127.0.0.1:6390",
            "--heartbeat-ms",
            "500",
            "--session-ttl-days",
            "2",
            "--call-socket-grace-secs",
            "3",
        ])
        .config();
        assert_eq!(c.listen, "0.0.0.0:9000".parse().expect("addr"));
        assert_eq!(c.store.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.store.database_url.as_deref(), Some("postgres://u@h/db"));
        assert_eq!(c.cluster.redis_url.as_deref(), Some("redis://127.0.0.1:6390"));
        assert_eq!(c.http.allowed_origins, ["https://a.example", "https://b.example"]);
        assert_eq!(c.realtime.heartbeat, Duration::from_millis(500));
        assert_eq!(c.accounts.session_ttl, Duration::from_secs(2 * 86_400));
        assert_eq!(c.calls.socket_grace, Duration::from_secs(3));
    }
}
