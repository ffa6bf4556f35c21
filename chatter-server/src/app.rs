//! Assembling and running a server: the store, the services, the router.

use crate::broker::{Broker, BrokerSink, LocalBroker, RedisBroker, RedisError};
use crate::config::Config;
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
    /// The configuration the server runs with.
    pub config: Arc<Config>,
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
    pub async fn open(config: Config) -> Result<Self, ServerError> {
        let store: Arc<dyn Store> = match &config.database_url {
            Some(url) => Arc::new(PgStore::connect(url).await?),
            None => {
                std::fs::create_dir_all(&config.data_dir)
                    .map_err(|source| ServerError::DataDir { path: config.data_dir.display().to_string(), source })?;
                Arc::new(SqliteStore::open(config.data_dir.join("chatter.db")).await?)
            }
        };
        let hub = Arc::new(Self::hub(&config));
        let Some(url) = config.redis_url.clone() else {
            let broker: Arc<dyn Broker> = Arc::new(LocalBroker::new(hub.clone(), store.clone()));
            return Self::assemble(config, store, hub, broker, None, None);
        };
        let node_ttl = std::time::Duration::from_secs(config.node_ttl_secs.max(1));
        let redis = RedisBroker::connect(&url, &config.redis_namespace, hub.clone(), store.clone(), node_ttl).await?;
        // Failed logins count over every node: N nodes must not allow N times the guesses.
        let limits = service_config(&config);
        let window = std::time::Duration::from_micros(limits.login_window_micros.max(1) as u64);
        let limiter: Arc<dyn LoginLimiter> = Arc::new(redis.login_limiter(limits.login_failures, window));
        let placement: Arc<dyn Placement> = Arc::new(redis.placement(node_ttl));
        Self::assemble(config, store, hub, Arc::new(redis), Some(limiter), Some(placement))
    }

    /// Wires the services over a given store (an embedding host may pass its own),
    /// with the in-process broker.
    pub fn with_store(config: Config, store: Arc<dyn Store>) -> Result<Self, ServerError> {
        let hub = Arc::new(Self::hub(&config));
        let broker: Arc<dyn Broker> = Arc::new(LocalBroker::new(hub.clone(), store.clone()));
        Self::assemble(config, store, hub, broker, None, None)
    }

    fn hub(config: &Config) -> Hub {
        Hub::new(HubLimits {
            queue: config.ws_queue,
            max_connections: config.max_connections,
            max_per_user: config.max_connections_per_user,
        })
    }

    fn assemble(
        config: Config,
        store: Arc<dyn Store>,
        hub: Arc<Hub>,
        broker: Arc<dyn Broker>,
        login_limiter: Option<Arc<dyn LoginLimiter>>,
        placement: Option<Arc<dyn Placement>>,
    ) -> Result<Self, ServerError> {
        hub.keep_feeds_trimmed();
        let workers =
            config.hash_workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
        let credentials = Argon2Credentials::new(workers, config.hash_queue).map_err(ServerError::Credentials)?;
        let mut service = Service::new(store, Arc::new(SystemClock), Arc::new(RandomIds), Arc::new(credentials))
            .with_sink(Arc::new(BrokerSink(broker.clone())))
            .with_config(service_config(&config));
        if let Some(limiter) = login_limiter {
            service = service.with_login_limiter(limiter);
        }
        // Records live three refreshes: a node dead that long loses its calls.
        let refresh = std::time::Duration::from_secs(config.node_ttl_secs.max(1)) / 3;
        let elsewhere = Arc::new(SocketsElsewhere::new(refresh));
        let sink =
            Arc::new(BrokerCallSink { broker: broker.clone(), hub: hub.clone(), elsewhere: Arc::clone(&elsewhere) });
        let sfu = Sfu::start(sfu_config(&config), sink)?;
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
        Ok(Self { service, config: Arc::new(config), hub, broker, sfu, calls })
    }
}

/// The core's settings from the server's configuration.
fn service_config(config: &Config) -> ServiceConfig {
    ServiceConfig {
        session_idle_ttl_micros: i64::from(config.session_ttl_days) * 86_400_000_000,
        ..ServiceConfig::default()
    }
}

/// The SFU's settings from the server's configuration.
fn sfu_config(config: &Config) -> SfuConfig {
    SfuConfig {
        bind: config.rtc_udp_addr.unwrap_or_else(|| std::net::SocketAddr::new(config.listen.ip(), 0)),
        public: config.rtc_public_addr,
        max_participants: config.call_max_participants,
        socket_grace: std::time::Duration::from_secs(config.call_socket_grace_secs),
        connect_timeout: std::time::Duration::from_secs(30),
        ice: IceConfig {
            stun_urls: config.stun_urls.clone(),
            turn_urls: config.turn_urls.clone(),
            turn_secret: config.turn_secret.clone(),
            turn_ttl: std::time::Duration::from_secs(config.turn_ttl_secs),
        },
    }
}

/// Runs a server on `listener` until `shutdown` completes, then drains open requests.
pub async fn run(
    config: Config,
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
