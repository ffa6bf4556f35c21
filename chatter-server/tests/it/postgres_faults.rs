//! Postgres going away and coming back (the Postgres pass of the suite only): requests
//! fail fast with 503, readiness says so, the server recovers by itself, a retried
//! send is stored once, and under traffic on two nodes every client ends up holding
//! every message once.

use crate::harness::{Server, TestUser, postgres, redis, seqs, test_config};
use crate::ws_client;
use futures::StreamExt;
use serde_json::json;
use std::collections::BTreeMap;
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

/// A server on a Postgres cluster of the test's own (and the temp dir of its data).
async fn server_on_own_cluster() -> (Cluster, Server, tempfile::TempDir) {
    let cluster = tokio::task::spawn_blocking(Cluster::create).await.expect("cluster");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(dir.path());
    config.store.database_url = Some(cluster.url());
    (cluster, Server::start_with(config).await, dir)
}

/// The cluster, stopped.
async fn stopped(cluster: Cluster) -> Cluster {
    tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    })
    .await
    .expect("stop")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_down_requests_fail_fast_and_the_server_recovers_by_itself() {
    if !postgres::enabled() {
        return;
    }
    let (cluster, s, _dir) = server_on_own_cluster().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Through it all", "private").await;
    s.say(&chat, &alice, "before").await;

    let cluster = stopped(cluster).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failure_on_the_socket_is_unavailable_with_no_detail() {
    if !postgres::enabled() {
        return;
    }
    let (cluster, s, _dir) = server_on_own_cluster().await;
    let alice = s.register("alice").await;
    let chat = s.group(&alice, "Through it all", "private").await;
    let mut ws = ws_client::Ws::connect(&s, &alice).await;
    let port = cluster.port.to_string();
    let cluster = stopped(cluster).await;
    ws.send(json!({"type": "send", "ref": "r1", "chat_id": chat, "text": "during", "client_id": "c1"})).await;
    let error = ws.next_of("error").await;
    assert_eq!((&error["code"], &error["ref"]), (&json!("unavailable"), &json!("r1")), "{error}");
    let message = error["message"].as_str().expect("message");
    for detail in ["127.0.0.1", port.as_str(), "database", "connect", "postgres", "refused"] {
        assert!(!message.to_lowercase().contains(detail), "the frame shows {detail:?}: {error}");
    }
    // HTTP says the same of the same failure.
    let r = s.post(&format!("/v1/chats/{chat}/messages")).by(&alice).json(json!({"text": "x"})).send().await;
    assert_eq!(r.expect_error(503, "unavailable")["message"], error["message"]);
    drop(ws);
    drop(s);
    drop(cluster);
}

/// Follows `chat` as `user` on `server` until it holds `want` messages, reconnecting
/// and resuming from the last event whenever the socket closes or cannot open (as a
/// client does); answers how often each message seq arrived.
async fn follow_until(server: &Server, user: &TestUser, chat: &str, want: usize) -> BTreeMap<u64, u32> {
    let mut got = BTreeMap::new();
    let mut last_event = 0u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < want {
        assert!(Instant::now() < deadline, "only {} of {want} messages after 60 s", got.len());
        let Ok(mut ws) = ws_client::open(server, &[("authorization", &format!("Bearer {}", user.token))]).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        ws.send(json!({"type": "resume", "chats": {chat: last_event}})).await;
        while got.len() < want {
            let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(10), ws.socket.next()).await else {
                break;
            };
            let Ok(text) = message.to_text() else { continue };
            let Ok(frame) = serde_json::from_str::<serde_json::Value>(text) else { continue };
            if let Some(seq) = frame["event_seq"].as_u64() {
                last_event = last_event.max(seq);
            }
            if frame["type"] == "message.created" {
                *got.entry(frame["message"]["seq"].as_u64().expect("seq")).or_default() += 1;
            }
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_traffic_on_two_nodes_loses_and_duplicates_nothing() {
    let Some(redis_url) = redis::url() else { return };
    let cluster = tokio::task::spawn_blocking(Cluster::create).await.expect("cluster");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut nodes = Vec::new();
    for n in ["1", "2"] {
        let mut config = test_config(&dir.path().join(n));
        config.store.database_url = Some(cluster.url());
        config.cluster.redis_url = Some(redis_url.clone());
        nodes.push(Server::start_with(config).await);
    }
    let (one, two) = (&nodes[0], &nodes[1]);
    let alice = one.register("alice").await;
    let bob = two.register("bob").await;
    let chat = one.group(&alice, "Through it all", "private").await;
    one.add(&chat, &alice, &bob).await;
    const TOTAL: usize = 60;
    let (sent_tx, mut sent_rx) = tokio::sync::mpsc::unbounded_channel();
    // The sender retries each message with its client_id until it is stored, as the
    // SDK's queue does; 503s are expected while Postgres is away.
    let sender = async {
        let mut refused = 0;
        for i in 0..TOTAL {
            let body = json!({"text": format!("m{i}"), "client_id": format!("m{i}")});
            loop {
                let r = one.post(&format!("/v1/chats/{chat}/messages")).by(&alice).json(body.clone()).send().await;
                match r.status {
                    200 | 201 => break,
                    503 => refused += 1,
                    other => panic!("unexpected {other}: {}", r.body),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = sent_tx.send(i);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        refused
    };
    let fault = async {
        while sent_rx.recv().await.is_some_and(|i| i < 20) {}
        let cluster = tokio::task::spawn_blocking(move || {
            cluster.stop();
            cluster
        })
        .await
        .expect("stop");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tokio::task::spawn_blocking(move || {
            cluster.start();
            cluster
        })
        .await
        .expect("start")
    };
    let (refused, _cluster, at_alice, at_bob) =
        tokio::join!(sender, fault, follow_until(one, &alice, &chat, TOTAL), follow_until(two, &bob, &chat, TOTAL));
    assert!(refused > 0, "the sender met the outage");
    let once: BTreeMap<u64, u32> = (1..=TOTAL as u64).map(|s| (s, 1)).collect();
    assert_eq!(at_alice, once, "Alice, on the sending node, holds every message once");
    assert_eq!(at_bob, once, "Bob, on the other node, holds every message once");
    let history = two.get(&format!("/v1/chats/{chat}/messages?limit=100")).by(&bob).send().await.expect(200);
    assert_eq!(seqs(&history), (1..=TOTAL as u64).collect::<Vec<_>>());
}
