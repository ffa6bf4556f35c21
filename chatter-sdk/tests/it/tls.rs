//! `https://` and `wss://` natively: the SDK reaches a server behind an nginx that ends
//! TLS with a test certificate the client is told to trust; without it, it refuses.

use crate::harness::{Server, builder, password, wait_until};
use chatter_sdk::model::Visibility;
use chatter_sdk::{SdkError, SyncState};
use std::process::{Child, Command};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

/// An nginx ending TLS in front of one server, with the repository's proxy rules.
struct TlsFront {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    certificate: String,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        // SIGTERM, so the master takes its workers down with it.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

impl TlsFront {
    /// `None` when nginx is not installed, outside the test command.
    fn start(server: &Server) -> Option<Self> {
        if Command::new("nginx").arg("-v").output().is_err() {
            assert!(std::env::var_os("CHATTER_REQUIRE_SERVICES").is_none(), "nginx is missing (make test installs it)");
            eprintln!("skipped: no nginx");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
        let certificate = generated.cert.pem();
        std::fs::write(dir.path().join("cert.pem"), &certificate).expect("cert");
        std::fs::write(dir.path().join("key.pem"), generated.signing_key.serialize_pem()).expect("key");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx/chatter-proxy.conf");
        let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        let d = dir.path().display();
        let config = format!(
            "{user}daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
             upstream chatter {{\n server {upstream};\n}}\n\
             server {{\n listen 127.0.0.1:{port} ssl;\n ssl_certificate {d}/cert.pem;\n\
             ssl_certificate_key {d}/key.pem;\n include {rules};\n}}\n}}\n",
            user = if root { "user root;\n" } else { "" },
            upstream = server.addr,
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, config).expect("nginx.conf");
        let child = Command::new("nginx").arg("-c").arg(&path).arg("-p").arg(dir.path()).spawn().expect("nginx");
        Some(Self { child, dir, port, certificate })
    }

    fn url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

#[tokio::test]
async fn the_sdk_talks_https_and_wss_to_a_server_it_is_told_to_trust() {
    let server = Server::start().await;
    let Some(front) = TlsFront::start(&server) else { return };
    let trusting = || builder(&front.url()).add_root_certificate_pem(front.certificate.as_bytes()).expect("a PEM");
    // nginx takes a moment to listen.
    let alice = trusting().build().await.expect("client");
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        match alice.register("alice", &password("alice"), None).await {
            Ok(_) => break,
            Err(SdkError::Network(_)) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("register over https failed: {e}\n{}", front.error_log()),
        }
    }
    let bob = trusting().build().await.expect("client");
    bob.register("bob", &password("bob"), None).await.expect("register over https");
    alice.start_sync(); // sends go out over the socket
    bob.start_sync();
    let mut state = bob.sync_state();
    tokio::time::timeout(LIMIT, async { while state.next().await != Some(SyncState::Connected) {} })
        .await
        .unwrap_or_else(|_| panic!("bob's socket connects over wss\n{}", front.error_log()));
    let chat = alice.create_group("Secure", Visibility::Private, &[bob.user_id().expect("id")]).await.expect("create");
    wait_until("bob's list has the chat over wss", LIMIT, || bob.chat(&chat.id).cached().is_some()).await;
    alice.chat(&chat.id).timeline().await.expect("timeline").send("over TLS").await.expect("send");
    let bobs = bob.chat(&chat.id).timeline().await.expect("timeline");
    wait_until("bob receives it live", LIMIT, || bobs.items().iter().any(|i| i.text == "over TLS")).await;

    // A client that was not told to trust the test certificate refuses the server.
    let stranger = builder(&front.url()).build().await.expect("client");
    let refused = stranger.login("alice", &password("alice")).await.expect_err("an unknown certificate");
    assert!(matches!(refused, SdkError::Network(_)), "{refused:?}");
    assert!(
        builder(&front.url()).add_root_certificate_pem(b"not a certificate").is_err(),
        "a PEM without a certificate is refused at once"
    );
}
