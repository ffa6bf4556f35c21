//! Chatter's reference server: the core on axum (hyper), with an embedded SQLite store.
//!
//! Embed it by mounting [`router`] in your own axum app, or run it whole with [`run`]:
//!
//! ```no_run
//! # async fn start() -> Result<(), chatter_server::ServerError> {
//! let config = chatter_server::ServerConfig::default();
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! chatter_server::run(config, listener, std::future::pending()).await
//! # }
//! ```

mod app;
pub mod broker;
pub mod config;
pub mod crypto;
pub mod http;
pub mod public_error;
pub mod realtime;
pub mod sfu;
pub mod store;

pub use app::{AppState, ServerError, run, serve};
pub use config::ServerConfig;
pub use http::router;
