//! Assembling and running a server: the store, the services, the router.

use crate::broker::{Broker, BrokerSink, LocalBroker, RedisBroker, RedisError};
use crate::config::{AccountsConfig, CallsConfig, HttpConfig, RealtimeConfig, ServerConfig};
use crate::crypto::{Argon2Credentials, RandomIds, SystemClock};
use crate::http;
use crate::realtime::{CloseCode, Hub, HubLimits};
use crate::sfu::{BrokerCallSink, Calls, IceConfig, Placement, Sfu, SfuConfig, SfuError, SocketsElsewhere};
use crate::store::{PgStore, SqliteStore};
use axum::serve::ListenerExt;
use chatter_core::service::{LoginLimiter, ServiceConfig};
use chatter_core::store::Store;
use chatter_core::{Service, StoreError};
use std::future::Future;
use std::sync::Arc;
use thiserror::Error;
use tokio::net::TcpListener;

/// Why a server could not start or stopped with an error.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The data folder could not be created.
    #[error("cannot use data dir {path}: {source}")]
    DataDir {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The store failed to open or migrate.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Setting up the password hasher failed.
    #[error("credentials: {0}")]
    Credentials(chatter_core::Error),
    /// The Redis broker could not start.
    #[error(transparent)]
    Redis(#[from] RedisError),
    /// The calls' UDP socket could not be opened.
    #[error(transparent)]
    Sfu(#[from] SfuError),
    /// Serving failed.
    #[error("serve: {0}")]
    Serve(#[from] std::io::Error),
}

/// Everything a request handler needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The rules over the store.
    pub service: Service,
    /// The HTTP surface's settings.
    pub http: Arc<HttpConfig>,
    /// The WebSocket's settings.
    pub realtime: Arc<RealtimeConfig>,
    /// This node's open sockets.
    pub hub: Arc<Hub>,
    /// Fan-out to every node.
    pub broker: Arc<dyn Broker>,
    /// Calls' media on this node.
    pub sfu: Sfu,
    /// Calls over every node (requests for calls hosted elsewhere go there).
    pub calls: Calls,
}

impl AppState {
    /// Opens the store (Postgres with `database_url`, else SQLite under the data dir)
    /// and wires the services.
    pub async fn open(config: ServerConfig) -> Result<Self, ServerError> {
        let store: Arc<dyn Store> = match &config.store.database_url {
            Some(url) => Arc::new(PgStore::connect(url).await?),
            None => {
                let dir = &config.store.data_dir;
                std::fs::create_dir_all(dir)
                    .map_err(|source| ServerError::DataDir { path: dir.display().to_string(), source })?;
                Arc::new(SqliteStore::open(dir.join("chatter.db")).await?)
            }
        };
        let hub = Arc::new(Self::hub(&config.realtime));
        let Some(url) = config.cluster.redis_url.clone() else {
            let broker: Arc<dyn Broker> = Arc::new(LocalBroker::new(hub.clone(), store.clone()));
            return Self::assemble(config, store, hub, broker, None, None);
        };
        let node_ttl = config.cluster.node_ttl.max(std::time::Duration::from_secs(1));
        let namespace = &config.cluster.redis_namespace;
        let redis = RedisBroker::connect(&url, namespace, hub.clone(), store.clone(), node_ttl).await?;
        // Failed logins count over every node: N nodes must not allow N times the guesses.
        let limits = service_config(&config.accounts);
        let window = std::time::Duration::from_micros(limits.login_window_micros.max(1) as u64);
        let limiter: Arc<dyn LoginLimiter> = Arc::new(redis.login_limiter(limits.login_failures, window));
        let placement: Arc<dyn Placement> = Arc::new(redis.placement(node_ttl));
        Self::assemble(config, store, hub, Arc::new(redis), Some(limiter), Some(placement))
    }

    /// Wires the services over a given store (an embedding host may pass its own),
    /// with the in-process broker.
    pub fn with_store(config: ServerConfig, store: Arc<dyn Store>) -> Result<Self, ServerError> {
        let hub = Arc::new(Self::hub(&config.realtime));
        let broker: Arc<dyn Broker> = Arc::new(LocalBroker::new(hub.clone(), store.clone()));
        Self::assemble(config, store, hub, broker, None, None)
    }

    fn hub(config: &RealtimeConfig) -> Hub {
        Hub::new(HubLimits {
            queue: config.queue,
            max_connections: config.max_connections,
            max_per_user: config.max_connections_per_user,
        })
    }

    fn assemble(
        config: ServerConfig,
        store: Arc<dyn Store>,
        hub: Arc<Hub>,
        broker: Arc<dyn Broker>,
        login_limiter: Option<Arc<dyn LoginLimiter>>,
        placement: Option<Arc<dyn Placement>>,
    ) -> Result<Self, ServerError> {
        hub.keep_feeds_trimmed();
        let accounts = &config.accounts;
        let workers =
            accounts.hash_workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
        let credentials = Argon2Credentials::new(workers, accounts.hash_queue).map_err(ServerError::Credentials)?;
        let mut service = Service::new(store, Arc::new(SystemClock), Arc::new(RandomIds), Arc::new(credentials))
            .with_sink(Arc::new(BrokerSink(broker.clone())))
            .with_config(service_config(accounts));
        if let Some(limiter) = login_limiter {
            service = service.with_login_limiter(limiter);
        }
        // Records live three refreshes: a node dead that long loses its calls.
        let refresh = config.cluster.node_ttl.max(std::time::Duration::from_secs(1)) / 3;
        let elsewhere = Arc::new(SocketsElsewhere::new(refresh));
        let sink =
            Arc::new(BrokerCallSink { broker: broker.clone(), hub: hub.clone(), elsewhere: Arc::clone(&elsewhere) });
        let sfu = Sfu::start(sfu_config(&config.calls, config.listen), sink)?;
        let ended = sfu.clone();
        hub.on_revocation(Box::new(move |sessions| ended.sessions_ended(sessions.to_vec())));
        let removed = sfu.clone();
        hub.on_removal(Box::new(move |user, chat| removed.member_removed(chat.clone(), user.clone())));
        let calls = match placement {
            None => Calls::local(sfu.clone()),
            Some(placement) => {
                let calls = Calls::distributed(sfu.clone(), placement, broker.clone(), hub.clone(), elsewhere, refresh);
                hub.on_call_message(Box::new(calls.listener()));
                calls
            }
        };
        Ok(Self { service, http: Arc::new(config.http), realtime: Arc::new(config.realtime), hub, broker, sfu, calls })
    }
}

/// The core's settings from the server's configuration.
fn service_config(accounts: &AccountsConfig) -> ServiceConfig {
    ServiceConfig {
        session_idle_ttl_micros: i64::try_from(accounts.session_ttl.as_micros()).unwrap_or(i64::MAX),
        ..ServiceConfig::default()
    }
}

/// The SFU's settings from the server's configuration.
fn sfu_config(calls: &CallsConfig, listen: std::net::SocketAddr) -> SfuConfig {
    SfuConfig {
        bind: calls.udp_addr.unwrap_or_else(|| std::net::SocketAddr::new(listen.ip(), 0)),
        public: calls.public_addr,
        max_participants: calls.max_participants,
        socket_grace: calls.socket_grace,
        connect_timeout: std::time::Duration::from_secs(30),
        ice: IceConfig {
            stun_urls: calls.stun_urls.clone(),
            turn_urls: calls.turn_urls.clone(),
            turn_secret: calls.turn_secret.clone(),
            turn_ttl: calls.turn_ttl,
        },
    }
}

/// Runs a server on `listener` until `shutdown` completes, then drains open requests.
pub async fn run(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let state = AppState::open(config).await?;
    serve(state, listener, shutdown).await
}

/// Serves an assembled state on `listener` until `shutdown` completes (for hosts and
/// tests that keep a handle on the state), then drains open requests.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let (hub, broker, sfu) = (state.hub.clone(), state.broker.clone(), state.sfu.clone());
    let app = http::router(state);
    let closing = hub.clone();
    let shutdown = async move {
        shutdown.await;
        // Sockets are not requests: ask them to close (1001: reconnect and resume).
        closing.close_all(CloseCode::GoingAway);
    };
    // Writes are already batched per socket; Nagle would only hold the next batch back
    // until the client's (possibly delayed) ACK of the previous one.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    hub.wait_idle(std::time::Duration::from_secs(5)).await;
    sfu.shutdown();
    broker.shutdown().await;
    Ok(())
}
