//! A terminal chat client: log in or sign up, list chats, open one, read and send live,
//! scroll back. The session is kept in `$CHATTER_CLI_HOME` (default `./.chatter-cli`),
//! so the next start is logged in already.

mod commands;
mod print;

use chatter_sdk::send_queue::FileSendQueueStore;
use chatter_sdk::session::FileSessionStore;
use chatter_sdk::{Client, Timeline};
use tokio::io::{AsyncBufReadExt, BufReader};

/// What the user is looking at.
pub struct Screen {
    pub client: Client,
    /// The open chat's timeline, and the task printing its live messages.
    pub open: Option<(Timeline, tokio::task::JoinHandle<()>)>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let home = std::path::PathBuf::from(std::env::var("CHATTER_CLI_HOME").unwrap_or_else(|_| ".chatter-cli".into()));
    std::fs::create_dir_all(&home)?;
    let client = Client::builder()
        .server(&server)
        .session_store(FileSessionStore::new(home.join("session.json")))
        .send_queue_store(FileSendQueueStore::new(home.join("outbox.json")))
        .device_name("cli-chat")
        .build()
        .await?;
    println!("Chatter at {server}. /help lists the commands.");
    if client.user_id().is_some() {
        client.start_sync();
        println!("Logged in again from the saved session.");
    }
    let mut screen = Screen { client, open: None };
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        match commands::run(&mut screen, line.trim()).await {
            Ok(commands::Next::Continue) => {}
            Ok(commands::Next::Quit) => break,
            Err(e) => println!("! {e}"),
        }
    }
    if let Some((_, printer)) = screen.open.take() {
        printer.abort();
    }
    Ok(())
}
