//! The binary serves the host's routes and Chatter's, WebSocket included.

use chatter_sdk::model::Visibility;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_routes_and_chatter_work_side_by_side() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut app = tokio::process::Command::new(env!("CARGO_BIN_EXE_embedded-server"))
        .args(["127.0.0.1:0", data.path().to_str().expect("path")])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let mut out = BufReader::new(app.stdout.take().expect("stdout")).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), out.next_line())
        .await
        .expect("prints its address")
        .expect("read")
        .expect("a line");
    let url = line.rsplit(' ').next().expect("url").to_owned();

    let host = reqwest::get(format!("{url}/host/status")).await.expect("host route");
    assert_eq!(host.text().await.expect("body"), "host app: ok");
    assert_eq!(reqwest::get(format!("{url}/healthz")).await.expect("healthz").status(), 200);

    let client = chatter_sdk::Client::builder().server(&url).build().await.expect("client");
    client.register("host-user", "a host user's password", None).await.expect("register");
    client.start_sync();
    let chat = client.create_group("Mounted", Visibility::Private, &[]).await.expect("create");
    let timeline = client.chat(&chat.id).timeline().await.expect("timeline");
    timeline.send("through the host app").await.expect("send");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !timeline.items().iter().any(|i| i.seq == Some(1)) {
        assert!(std::time::Instant::now() < deadline, "the message went through the WebSocket");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.kill().await.expect("stop");
}
