//! The binary, driven through stdin against a real server.

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_session_signs_up_creates_a_chat_and_sees_its_own_message() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = chatter_server::ServerConfig::default();
    config.store.data_dir = data.path().join("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(chatter_server::run(config, listener, std::future::pending()));

    let mut cli = tokio::process::Command::new(env!("CARGO_BIN_EXE_cli-chat"))
        .arg(&url)
        .env("CHATTER_CLI_HOME", data.path().join("cli"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let mut stdin = cli.stdin.take().expect("stdin");
    let mut out = BufReader::new(cli.stdout.take().expect("stdout")).lines();
    let mut expect = async |wanted: &str| {
        let found = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = out.next_line().await.expect("read") {
                if line.contains(wanted) {
                    return true;
                }
            }
            false
        });
        assert!(found.await.unwrap_or(false), "no line with {wanted:?}");
    };
    for (input, wanted) in [
        ("/register carol carol's-password", "Welcome, carol."),
        ("/new Book club", "-- "),
        ("hello from the terminal", "carol: hello from the terminal"),
        ("/chats", "1. Book club"),
        ("/bogus", "Unknown or incomplete command"),
    ] {
        stdin.write_all(format!("{input}\n").as_bytes()).await.expect("write");
        expect(wanted).await;
    }
    stdin.write_all(b"/quit\n").await.expect("write");
    let status = tokio::time::timeout(Duration::from_secs(10), cli.wait()).await.expect("exits").expect("status");
    assert!(status.success());
}
