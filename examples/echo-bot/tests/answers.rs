//! The bot's binary, against a real server: it answers a message.

use chatter_sdk::Client;
use chatter_sdk::model::Visibility;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_answers_a_message() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = chatter_server::ServerConfig::default();
    config.store.data_dir = data.path().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(chatter_server::run(config, listener, std::future::pending()));

    let alice = Client::builder().server(&url).build().await.expect("client");
    alice.register("alice", "alice's password", None).await.expect("register");
    let chat = alice.create_group("Bots welcome", Visibility::Public, &[]).await.expect("create");
    alice.start_sync();
    let timeline = alice.chat(&chat.id).timeline().await.expect("timeline");

    let mut bot = tokio::process::Command::new(env!("CARGO_BIN_EXE_echo-bot"))
        .args([url.as_str(), "echo-bot", "the bot's password", chat.id.as_str()])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the bot starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while alice.chat(&chat.id).members().await.expect("members").len() < 2 {
        assert!(Instant::now() < deadline, "the bot joined");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The bot answers what arrives after it has subscribed: say something until it does.
    let mut said = 0;
    loop {
        assert!(Instant::now() < deadline, "the bot answered");
        if timeline.items().iter().any(|i| i.text.starts_with("echo: ping")) {
            break;
        }
        if said < 5 {
            said += 1;
            timeline.send(format!("ping {said}")).await.expect("send");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let answer = timeline.items().iter().find(|i| i.text.starts_with("echo: ping")).cloned().expect("answer");
    assert_ne!(Some(answer.sender_id), alice.user_id(), "the answer is the bot's");
    bot.kill().await.expect("stop the bot");
}
