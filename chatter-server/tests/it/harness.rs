//! A server started in-process on 127.0.0.1:0 over a temp data dir, and a small client.

use chatter_server::ServerConfig;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Server {
    pub base: String,
    /// The Postgres database of a server on Postgres.
    pub database_url: Option<String>,
    http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    dir: Option<tempfile::TempDir>,
    pub data_dir: PathBuf,
    /// The child process of a server run as the real binary.
    process: Option<std::process::Child>,
}

/// A registered user: id, username and bearer token.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub token: String,
}

impl TestUser {
    /// The user of a register or login answer.
    fn from_auth(body: &Value) -> Self {
        Self {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            username: body["user"]["username"].as_str().expect("username").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }
}

/// A response: status, headers and the JSON body (Null when empty).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status, body: {}", self.body);
        self.body
    }

    /// Asserts an error answer with this status and code; returns the error object.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected status, body: {}", self.body);
        let error = &self.body["error"];
        assert_eq!(error["code"], code, "unexpected code, body: {}", self.body);
        assert!(error["message"].is_string(), "error has a message: {}", self.body);
        error.clone()
    }
}

pub struct Call {
    rb: reqwest::RequestBuilder,
}

impl Call {
    pub fn token(self, token: &str) -> Self {
        Self { rb: self.rb.bearer_auth(token) }
    }

    pub fn by(self, user: &TestUser) -> Self {
        self.token(&user.token)
    }

    pub fn json(self, body: Value) -> Self {
        Self { rb: self.rb.json(&body) }
    }

    pub fn header(self, name: &str, value: &str) -> Self {
        Self { rb: self.rb.header(name, value) }
    }

    pub fn raw_body(self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        Self { rb: self.rb.header("content-type", content_type).body(body) }
    }

    pub async fn send(self) -> Resp {
        let r = self.rb.send().await.expect("request reaches the server");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Resp { status, headers, body }
    }
}

pub fn test_config(data_dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.store.data_dir = data_dir.to_owned();
    config.listen = "127.0.0.1:0".parse().expect("addr");
    config
}

impl Server {
    /// A server on a fresh temp data dir.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(dir.path());
        let mut s = Self::start_with(config).await;
        s.dir = Some(dir);
        s
    }

    /// A server on a fresh temp data dir, its configuration adjusted by `adjust`.
    pub async fn start_adjusted(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let mut s = Self::start_with(config).await;
        s.dir = Some(dir);
        s
    }

    /// A server with this configuration (on a fresh Postgres database when the suite
    /// runs against Postgres and the configuration names none).
    pub async fn start_with(mut config: ServerConfig) -> Self {
        if config.store.database_url.is_none() {
            config.store.database_url = postgres::fresh_database().await;
        }
        if config.cluster.redis_url.is_none() {
            config.cluster.redis_url = redis::url();
        }
        if let (Some(_), Some(db)) = (&config.cluster.redis_url, &config.store.database_url)
            && config.cluster.redis_namespace == ServerConfig::default().cluster.redis_namespace
        {
            config.cluster.redis_namespace = redis::namespace(db);
        }
        let database_url = config.store.database_url.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let data_dir = config.store.data_dir.clone();
        let task = tokio::spawn(async move {
            chatter_server::run(config, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        let server = Self {
            database_url,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
            dir: None,
            data_dir,
            process: None,
        };
        server.wait_healthy().await;
        server
    }

    /// The real binary as a child process, with `args` (it listens on 127.0.0.1:0 and
    /// keeps its data in `data_dir`).
    pub async fn start_process(data_dir: &Path, args: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chatter-server"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env_remove("CHATTER_LISTEN")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let base = tokio::task::spawn_blocking(move || {
            loop {
                let line = rx.recv_timeout(std::time::Duration::from_secs(30)).expect("a start-up line");
                if let Some(i) = line.find("http://") {
                    break line[i..].split_whitespace().next().expect("url").to_owned();
                }
            }
        })
        .await
        .expect("start-up line read");
        let server = Self {
            base,
            database_url: None,
            http: reqwest::Client::new(),
            stop: None,
            task: None,
            dir: None,
            data_dir: data_dir.to_owned(),
            process: Some(child),
        };
        server.wait_healthy().await;
        server
    }

    /// A server someone else runs (e.g. a proxy in front of nodes) at `base`.
    pub fn external(base: String) -> Self {
        Self {
            base,
            database_url: None,
            http: reqwest::Client::new(),
            stop: None,
            task: None,
            dir: None,
            data_dir: PathBuf::new(),
            process: None,
        }
    }

    /// Stops a server run as a process with SIGTERM (a graceful stop), waiting for it.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.process.take() {
            let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }

    /// Kills a server run as a process with SIGKILL: no goodbye to anyone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            child.kill().expect("kill");
            let _ = child.wait();
        }
    }

    async fn wait_healthy(&self) {
        for _ in 0..250 {
            if let Ok(r) = self.http.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not start");
    }

    /// Stops the server (draining requests) and hands back its temp dir.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task ends cleanly");
        }
        self.dir.take()
    }

    /// Restarts on the same data dir (a new process-equivalent: new store, new state).
    pub async fn restart(self) -> Self {
        let data_dir = self.data_dir.clone();
        let mut config = test_config(&data_dir);
        config.store.database_url = self.database_url.clone();
        let dir = self.stop().await;
        let mut s = Self::start_with(config).await;
        s.dir = dir;
        s
    }

    pub fn call(&self, method: Method, path: &str) -> Call {
        Call { rb: self.http.request(method, format!("{}{path}", self.base)) }
    }

    pub fn get(&self, path: &str) -> Call {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call {
        self.call(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call {
        self.call(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Call {
        self.call(Method::DELETE, path)
    }

    /// Registers `name` with the password `password-<name>`.
    pub async fn register(&self, name: &str) -> TestUser {
        let body = json!({"username": name, "password": format!("password-{name}")});
        TestUser::from_auth(&self.post("/v1/users").json(body).send().await.expect(201))
    }

    /// Opens another session for `name` (password `password-<name>`).
    pub async fn login(&self, name: &str) -> TestUser {
        let body = json!({"username": name, "password": format!("password-{name}")});
        TestUser::from_auth(&self.post("/v1/sessions").json(body).send().await.expect(201))
    }

    /// Creates a group owned by `owner`; returns its id.
    pub async fn group(&self, owner: &TestUser, title: &str, visibility: &str) -> String {
        let body = self
            .post("/v1/chats")
            .by(owner)
            .json(json!({"kind": "group", "title": title, "visibility": visibility}))
            .send()
            .await
            .expect(201);
        body["id"].as_str().expect("chat id").to_owned()
    }

    /// Creates (or finds) the direct chat of `a` and `b`; returns its id.
    pub async fn direct(&self, a: &TestUser, b: &TestUser) -> String {
        let r = self.post("/v1/chats").by(a).json(json!({"kind": "direct", "members": [b.id]})).send().await;
        assert!(r.status == 201 || r.status == 200, "direct chat: {}", r.body);
        r.body["id"].as_str().expect("chat id").to_owned()
    }

    /// Adds `user` to `chat` as `by`.
    pub async fn add(&self, chat: &str, by: &TestUser, user: &TestUser) {
        self.post(&format!("/v1/chats/{chat}/members"))
            .by(by)
            .json(json!({"user_id": user.id}))
            .send()
            .await
            .expect(201);
    }

    /// Registers `names` and puts them in a private group "Team" owned by the first.
    pub async fn team<const N: usize>(&self, names: [&str; N]) -> ([TestUser; N], String) {
        let mut users = Vec::with_capacity(N);
        for name in names {
            users.push(self.register(name).await);
        }
        let chat = self.group(&users[0], "Team", "private").await;
        for user in &users[1..] {
            self.add(&chat, &users[0], user).await;
        }
        let Ok(users) = <[TestUser; N]>::try_from(users) else { unreachable!("N names make N users") };
        (users, chat)
    }

    /// Makes `user` an admin of `chat` as `owner`.
    pub async fn make_admin(&self, chat: &str, owner: &TestUser, user: &TestUser) {
        self.patch(&format!("/v1/chats/{chat}/members/{}", user.id))
            .by(owner)
            .json(json!({"role": "admin"}))
            .send()
            .await
            .expect(200);
    }

    /// The id of `user`'s other session (the one not making this call).
    pub async fn other_session(&self, user: &TestUser) -> String {
        let sessions = self.get("/v1/sessions").by(user).send().await.expect(200);
        sessions["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .find(|s| s["current"] == false)
            .and_then(|s| s["id"].as_str())
            .expect("another session")
            .to_owned()
    }

    /// Posts `text` to `chat` as `user`; returns the message.
    pub async fn say(&self, chat: &str, user: &TestUser, text: &str) -> Value {
        self.post(&format!("/v1/chats/{chat}/messages")).by(user).json(json!({"text": text})).send().await.expect(201)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.kill();
    }
}

/// Two server processes (the real binary) sharing one fresh database and the suite's
/// Redis (the Postgres pass only; `None` otherwise). The temp dir holds their data dirs.
pub async fn two_nodes() -> Option<(Server, Server, tempfile::TempDir)> {
    two_nodes_with(&[]).await
}

/// [`two_nodes`], each started with `extra` flags too.
pub async fn two_nodes_with(extra: &[&str]) -> Option<(Server, Server, tempfile::TempDir)> {
    let redis_url = redis::url()?;
    let url = postgres::fresh_database().await?;
    let dir = tempfile::tempdir().expect("temp dir");
    let namespace = redis::namespace(&url);
    let mut args = vec!["--database-url", &url, "--redis-url", &redis_url, "--redis-namespace", &namespace];
    args.extend_from_slice(extra);
    let one = Server::start_process(&dir.path().join("1"), &args).await;
    let two = Server::start_process(&dir.path().join("2"), &args).await;
    Some((one, two, dir))
}

/// The seqs of a `{messages: [...]}` body.
pub fn seqs(body: &Value) -> Vec<u64> {
    body["messages"].as_array().expect("messages").iter().map(|m| m["seq"].as_u64().expect("seq")).collect()
}

pub mod postgres {
    //! The Postgres backend of the suite: with `CHATTER_IT_BACKEND=postgres` (set by the
    //! test command, which also starts the Postgres in `CHATTER_TEST_DATABASE_URL`),
    //! every server gets a database of its own.

    use std::sync::atomic::{AtomicU64, Ordering};

    /// Whether the suite runs against Postgres.
    pub fn enabled() -> bool {
        std::env::var("CHATTER_IT_BACKEND").is_ok_and(|b| b == "postgres")
    }

    /// A new empty database's URL, when the suite runs against Postgres.
    pub async fn fresh_database() -> Option<String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        if !enabled() {
            return None;
        }
        let url = std::env::var("CHATTER_TEST_DATABASE_URL").expect("CHATTER_TEST_DATABASE_URL (make test sets it)");
        let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("admin connection");
        tokio::spawn(connection);
        let name = format!("it{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        admin.execute(&format!("CREATE DATABASE {name}"), &[]).await.expect("create database");
        let base = url.rsplit_once('/').map(|(b, _)| b).expect("a URL with a database");
        Some(format!("{base}/{name}"))
    }
}

pub mod redis {
    //! The Redis of the suite's Postgres pass (`CHATTER_TEST_REDIS_URL`, started by the
    //! test command): every server of that pass fans out through it, as in production.
    //! Tests that stop Redis start one of their own.

    use std::path::Path;
    use std::process::Command;

    /// The Redis namespace of the deployment on `database_url`: servers of different
    /// tests share the suite's Redis but never each other's keys (their users may have
    /// the same names).
    pub fn namespace(database_url: &str) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        database_url.hash(&mut h);
        format!("it-{:016x}", h.finish())
    }

    /// The shared Redis, when the suite runs against Postgres and Redis.
    pub fn url() -> Option<String> {
        if !super::postgres::enabled() {
            return None;
        }
        std::env::var("CHATTER_TEST_REDIS_URL").ok()
    }

    /// A Redis of a test's own, on a free port, stopped when dropped.
    pub struct OwnRedis {
        dir: tempfile::TempDir,
        pub port: u16,
    }

    impl OwnRedis {
        pub fn start() -> Self {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
            let redis = Self { dir, port };
            redis.resume();
            redis
        }

        pub fn url(&self) -> String {
            format!("redis://127.0.0.1:{}", self.port)
        }

        fn pid_file(&self) -> std::path::PathBuf {
            self.dir.path().join("redis.pid")
        }

        /// Starts it (again, empty: it keeps nothing on disk).
        pub fn resume(&self) {
            let dir: &Path = self.dir.path();
            let status = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
                .args(["--daemonize", "yes", "--dir"])
                .arg(dir)
                .arg("--pidfile")
                .arg(self.pid_file())
                .arg("--logfile")
                .arg(dir.join("redis.log"))
                .status()
                .expect("redis-server runs (make test installs it)");
            assert!(status.success(), "redis-server started");
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() && self.pid_file().exists() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            panic!("redis did not start");
        }

        /// Stops it at once (SIGKILL: connections drop, nothing is saved).
        pub fn stop(&self) {
            if let Ok(pid) = std::fs::read_to_string(self.pid_file()) {
                let _ = Command::new("kill").args(["-9", pid.trim()]).status();
                let _ = std::fs::remove_file(self.pid_file());
            }
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }

    impl Drop for OwnRedis {
        fn drop(&mut self) {
            self.stop();
        }
    }
}

pub mod nginx {
    //! An nginx in front of nodes, with the proxy rules of `deploy/nginx/`.

    use super::Server;
    use std::process::{Child, Command};

    /// A running nginx, stopped when dropped.
    pub struct Nginx {
        child: Child,
        _dir: tempfile::TempDir,
        pub base: String,
    }

    impl Nginx {
        /// Starts nginx on a free port, balancing over `nodes` with the repository's
        /// `deploy/nginx/chatter-proxy.conf`; every answer says which node gave it in
        /// `X-Chatter-Node`.
        pub async fn start(nodes: &[&Server]) -> Self {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
            let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx/chatter-proxy.conf");
            let upstreams: String =
                nodes.iter().map(|n| format!("server {};\n", n.base.trim_start_matches("http://"))).collect();
            let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
            let d = dir.path().display();
            let config = format!(
                "{user}daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
                 fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
                 upstream chatter {{\n{upstreams} keepalive 8;\n}}\n\
                 server {{\n listen 127.0.0.1:{port};\n add_header X-Chatter-Node $upstream_addr always;\n\
                 include {rules};\n}}\n}}\n",
                user = if root { "user root;\n" } else { "" },
            );
            let path = dir.path().join("nginx.conf");
            std::fs::write(&path, config).expect("nginx.conf written");
            let child = Command::new("nginx")
                .arg("-c")
                .arg(&path)
                .arg("-p")
                .arg(dir.path())
                .spawn()
                .expect("nginx runs (make test installs it)");
            let base = format!("http://127.0.0.1:{port}");
            let nginx = Self { child, _dir: dir, base };
            for _ in 0..250 {
                if let Ok(r) = reqwest::get(format!("{}/healthz", nginx.base)).await
                    && r.status().is_success()
                {
                    return nginx;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            panic!(
                "nginx did not start: {}",
                std::fs::read_to_string(nginx._dir.path().join("error.log")).unwrap_or_default()
            );
        }

        /// The nodes as one server, through nginx.
        pub fn front(&self) -> Server {
            Server::external(self.base.clone())
        }
    }

    impl Drop for Nginx {
        fn drop(&mut self) {
            // SIGTERM, so the master takes its workers down with it.
            let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
            let _ = self.child.wait();
        }
    }
}
