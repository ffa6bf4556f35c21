//! The server's configuration as plain values: [`ServerConfig`] with its defaults and a
//! builder, one section per subsystem, which gets its own section and nothing else.
//! Nothing here reads flags or the environment: the `chatter-server` binary maps its
//! command line onto these types, and a host app that embeds the router sets them in
//! code.
//!
//! ```
//! use chatter_server::ServerConfig;
//!
//! let config = ServerConfig::builder()
//!     .listen("127.0.0.1:0".parse().unwrap())
//!     .data_dir("/tmp/chatter-example")
//!     .allowed_origin("https://app.example.org")
//!     .build();
//! assert_eq!(config.http.allowed_origins, ["https://app.example.org"]);
//! assert_eq!(config.realtime.max_connections, 10_000);
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How to run a Chatter server. `Default` is what `chatter-server` runs with no flags:
/// 127.0.0.1:8080, SQLite under `./chatter-data`, the in-process broker.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Address and port to listen on (the calls' UDP socket binds the same IP unless
    /// [`CallsConfig::udp_addr`] says otherwise).
    pub listen: SocketAddr,
    /// Where data is kept.
    pub store: StoreConfig,
    /// Running as one of many nodes.
    pub cluster: ClusterConfig,
    /// The HTTP surface.
    pub http: HttpConfig,
    /// Accounts and sessions.
    pub accounts: AccountsConfig,
    /// The WebSocket.
    pub realtime: RealtimeConfig,
    /// Calls (the SFU).
    pub calls: CallsConfig,
}

/// Where data is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreConfig {
    /// Folder of the embedded SQLite database (created if missing); unused with
    /// `database_url`.
    pub data_dir: PathBuf,
    /// Postgres instead of the embedded SQLite database, e.g.
    /// `postgres://chatter:secret@db.internal:5432/chatter` (migrations run at start-up).
    pub database_url: Option<String>,
}

/// Running as one of many nodes behind a load balancer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// Redis for fan-out, presence, login limits and call placement across nodes, e.g.
    /// `redis://redis.internal:6379`; without it, everything stays on this node.
    pub redis_url: Option<String>,
    /// The prefix of this deployment's keys and channel in Redis (deployments that share
    /// one Redis need different ones).
    pub redis_namespace: String,
    /// How long after its last heartbeat in Redis a node counts as dead (it beats every
    /// fifth of this); at least a second.
    pub node_ttl: Duration,
}

/// The HTTP surface.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Origins allowed besides the server's own: for cookie-authenticated writes and
    /// sockets, and for cross-origin requests (CORS with credentials).
    pub allowed_origins: Vec<String>,
    /// Mark the session cookie `Secure` (when TLS ends at a proxy in front).
    pub secure_cookies: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
}

/// Accounts and sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountsConfig {
    /// How long a session may go unused before it expires.
    pub session_ttl: Duration,
    /// Password hashes computed at once (`None`: the number of CPUs).
    pub hash_workers: Option<usize>,
    /// Password hashes allowed to wait for a worker before requests get 429.
    pub hash_queue: usize,
}

/// The WebSocket.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RealtimeConfig {
    /// Time between pings; a peer that misses two is closed.
    pub heartbeat: Duration,
    /// Frames a socket may have queued, and events it may be behind in a chat, before
    /// it is closed as a slow consumer (4008).
    pub queue: usize,
    /// How long a busy socket waits after a write before the next, so that events
    /// arriving meanwhile share one write (zero: write each event at once).
    pub flush: Duration,
    /// Open sockets allowed on this node; more are closed with 4029.
    pub max_connections: usize,
    /// Open sockets allowed per user on this node; more are closed with 4029.
    pub max_connections_per_user: usize,
}

/// Calls: the SFU's UDP socket and the ICE servers handed to clients.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallsConfig {
    /// Where the UDP socket binds (`None`: the listen address's IP and a free port).
    pub udp_addr: Option<SocketAddr>,
    /// The address clients send media to, when it differs from the bound one (NAT, a
    /// public IP); port 0 means the bound port.
    pub public_addr: Option<SocketAddr>,
    /// STUN server URLs handed to clients, e.g. `stun:stun.example.org:3478`.
    pub stun_urls: Vec<String>,
    /// TURN server URLs handed to clients with time-limited credentials (needs
    /// `turn_secret`).
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server (coturn's `static-auth-secret`).
    pub turn_secret: Option<String>,
    /// How long the TURN credentials handed out with a join stay valid.
    pub turn_ttl: Duration,
    /// Participants allowed in one call.
    pub max_participants: usize,
    /// How long a participant whose session has no open socket stays in the call.
    pub socket_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: StoreConfig::default(),
            cluster: ClusterConfig::default(),
            http: HttpConfig::default(),
            accounts: AccountsConfig::default(),
            realtime: RealtimeConfig::default(),
            calls: CallsConfig::default(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { data_dir: PathBuf::from("./chatter-data"), database_url: None }
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self { redis_url: None, redis_namespace: "chatter".into(), node_ttl: Duration::from_secs(10) }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self { allowed_origins: Vec::new(), secure_cookies: false, body_limit: 1024 * 1024 }
    }
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self { session_ttl: Duration::from_secs(30 * 86_400), hash_workers: None, hash_queue: 64 }
    }
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(25),
            queue: 2048,
            flush: Duration::from_millis(30),
            max_connections: 10_000,
            max_connections_per_user: 32,
        }
    }
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self {
            udp_addr: None,
            public_addr: None,
            stun_urls: Vec::new(),
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl: Duration::from_secs(12 * 3600),
            max_participants: 50,
            socket_grace: Duration::from_secs(10),
        }
    }
}

impl ServerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder(Self::default())
    }
}

/// Builds a [`ServerConfig`] from the defaults; each section can also be set whole.
#[derive(Clone, Debug)]
#[must_use]
pub struct ServerConfigBuilder(ServerConfig);

impl ServerConfigBuilder {
    /// Address and port to listen on.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.0.listen = addr;
        self
    }

    /// Folder of the embedded SQLite database.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.0.store.data_dir = dir.into();
        self
    }

    /// Postgres instead of the embedded SQLite database.
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.0.store.database_url = Some(url.into());
        self
    }

    /// Redis for running as one of many nodes.
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.0.cluster.redis_url = Some(url.into());
        self
    }

    /// An origin allowed besides the server's own (call again for more).
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.0.http.allowed_origins.push(origin.into());
        self
    }

    /// The whole cluster section.
    pub fn cluster(mut self, cluster: ClusterConfig) -> Self {
        self.0.cluster = cluster;
        self
    }

    /// The whole HTTP section.
    pub fn http(mut self, http: HttpConfig) -> Self {
        self.0.http = http;
        self
    }

    /// The whole accounts section.
    pub fn accounts(mut self, accounts: AccountsConfig) -> Self {
        self.0.accounts = accounts;
        self
    }

    /// The whole WebSocket section.
    pub fn realtime(mut self, realtime: RealtimeConfig) -> Self {
        self.0.realtime = realtime;
        self
    }

    /// The whole calls section.
    pub fn calls(mut self, calls: CallsConfig) -> Self {
        self.0.calls = calls;
        self
    }

    /// The configuration.
    pub fn build(self) -> ServerConfig {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_localhost_8080_with_data_in_chatter_data() {
        let c = ServerConfig::default();
        assert_eq!(c.listen, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(c.store, StoreConfig { data_dir: PathBuf::from("./chatter-data"), database_url: None });
        assert_eq!(c.cluster.redis_url, None, "the in-process broker is the default");
        assert_eq!((c.accounts.session_ttl, c.http.body_limit), (Duration::from_secs(30 * 86_400), 1024 * 1024));
        assert!(c.http.allowed_origins.is_empty() && !c.http.secure_cookies);
        assert_eq!((c.calls.udp_addr, c.calls.public_addr, c.calls.max_participants), (None, None, 50));
    }

    #[test]
    fn the_builder_sets_fields_and_whole_sections() {
        let realtime = RealtimeConfig { max_connections: 7, ..RealtimeConfig::default() };
        let c = ServerConfig::builder()
            .database_url("postgres://u@h/db")
            .redis_url("redis://127.0.0.1:6390")
            .allowed_origin("https://a.example")
            .allowed_origin("https://b.example")
            .realtime(realtime.clone())
            .build();
        assert_eq!(c.store.database_url.as_deref(), Some("postgres://u@h/db"));
        assert_eq!(c.cluster.redis_url.as_deref(), Some("redis://127.0.0.1:6390"));
        assert_eq!(c.http.allowed_origins, ["https://a.example", "https://b.example"]);
        assert_eq!(c.realtime, realtime);
        assert_eq!(c.accounts, AccountsConfig::default());
    }
}
