//! A host program with its own HTTP routes that also serves Chatter: the server crate is
//! a library whose router mounts in any axum app.
//!
//! `embedded-server [listen-addr] [data-dir]` (defaults: 127.0.0.1:8090, ./embedded-data).

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let data_dir = args.next().unwrap_or_else(|| "embedded-data".to_owned());
    // The library's configuration is plain values: the host decides where they come from.
    let config = chatter_server::ServerConfig::builder().data_dir(&data_dir).build();
    std::fs::create_dir_all(&data_dir)?;

    let chatter = chatter_server::AppState::open(config).await?;
    let app = Router::new()
        .route("/", get(|| async { "The host app's own page. Chatter's API is under /v1." }))
        .route("/host/status", get(|| async { "host app: ok" }))
        .merge(chatter_server::router(chatter));

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("host app with Chatter at http://{}", listener.local_addr()?);
    axum::serve(listener, app).with_graceful_shutdown(async { drop(tokio::signal::ctrl_c().await) }).await?;
    Ok(())
}
