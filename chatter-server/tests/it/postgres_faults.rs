//! Postgres going away and coming back (the Postgres pass of the suite only): requests
//! fail fast with 503, readiness says so, the server recovers by itself, and a retried
//! send is stored once.

use crate::harness::{Server, postgres, seqs, test_config};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A Postgres cluster of this test's own, so it can be stopped and started.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

fn pg_bin(name: &str) -> PathBuf {
    let base = std::env::var("PGBIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    Path::new(&base).join(name)
}

/// Runs a Postgres command, as the `postgres` user when the tests run as root.
fn run_as_postgres(program: &Path, args: &[&str]) -> std::io::Result<std::process::ExitStatus> {
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    if root {
        Command::new("runuser").args(["-u", "postgres", "--"]).arg(program).args(args).status()
    } else {
        Command::new(program).args(args).status()
    }
}

fn as_postgres(program: &Path, args: &[&str]) {
    let status = run_as_postgres(program, args).expect("run a Postgres command");
    assert!(status.success(), "{} {args:?} failed", program.display());
}

impl Cluster {
    fn create() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
        let _ = Command::new("chown").arg("postgres").arg(dir.path()).status();
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let data = dir.path().join("data");
        as_postgres(
            &pg_bin("initdb"),
            &["-D", data.to_str().expect("path"), "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let cluster = Self { dir, port };
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn start(&self) {
        let options =
            format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off", self.port, self.dir.path().display());
        let log = self.dir.path().join("log").to_string_lossy().into_owned();
        as_postgres(&pg_bin("pg_ctl"), &["-D", &self.data(), "-w", "-l", &log, "-o", &options, "start"]);
    }

    fn stop(&self) {
        as_postgres(&pg_bin("pg_ctl"), &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = run_as_postgres(&pg_bin("pg_ctl"), &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_down_requests_fail_fast_and_the_server_recovers_by_itself() {
    if !postgres::enabled() {
        return;
    }
    let cluster = tokio::task::spawn_blocking(Cluster::create).await.expect("cluster");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(dir.path());
    config.database_url = Some(cluster.url());
    let s = Server::start_with(config).await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Through it all", "private").await;
    s.say(&chat, &alice, "before").await;

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    })
    .await
    .expect("stop");
    let send = json!({"text": "during", "client_id": "retry-me"});
    let t = Instant::now();
    let r = s.post(&format!("/v1/chats/{chat}/messages")).by(&alice).json(send.clone()).send().await;
    assert!(t.elapsed() < Duration::from_secs(2), "answered in {:?}", t.elapsed());
    assert!(r.headers.get("retry-after").is_some());
    r.expect_error(503, "unavailable");
    let t = Instant::now();
    let ready = s.get("/readyz").send().await;
    assert!(t.elapsed() < Duration::from_secs(2), "readyz answered in {:?}", t.elapsed());
    assert_eq!(ready.status, 503);

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start();
        cluster
    })
    .await
    .expect("start");
    let deadline = Instant::now() + Duration::from_secs(15);
    while s.get("/readyz").send().await.status != 200 {
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.post(&format!("/v1/chats/{chat}/messages")).by(&alice).json(send.clone()).send().await.expect(201);
    s.post(&format!("/v1/chats/{chat}/messages")).by(&alice).json(send).send().await.expect(200);
    let history = s.get(&format!("/v1/chats/{chat}/messages")).by(&alice).send().await.expect(200);
    assert_eq!(seqs(&history), [1, 2], "the retried send is stored once");
    drop(s);
    drop(cluster);
}
