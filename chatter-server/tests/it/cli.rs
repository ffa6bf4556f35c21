//! The real binary: `--help`, the start-up line with the URL, serving, SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chatter-server");

#[test]
fn help_explains_every_flag_and_its_environment_variable() {
    let out = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--data-dir",
        "--allowed-origin",
        "--secure-cookies",
        "--session-ttl-days",
        "--body-limit",
        "--hash-workers",
        "--hash-queue",
        "--log",
        "--database-url",
        "--redis-url",
        "--redis-namespace",
        "--node-ttl-secs",
        "CHATTER_LISTEN",
        "CHATTER_DATABASE_URL",
        "CHATTER_REDIS_URL",
        "CHATTER_DATA_DIR",
        "127.0.0.1:8080",
        "./chatter-data",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}:\n{help}");
    }
}

#[tokio::test]
async fn the_binary_logs_its_url_serves_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env_remove("CHATTER_LISTEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("a start-up line");
        if let Some(i) = line.find("http://") {
            break line[i..].split_whitespace().next().expect("url").to_owned();
        }
    };
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "the real port: {url}");
    let health = reqwest::get(format!("{url}/healthz")).await.expect("serves");
    assert_eq!(health.status(), 200);
    assert!(data.join("chatter.db").exists(), "the database lives in the data dir");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "stops within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exits 0 after a graceful shutdown: {status:?}");
}
