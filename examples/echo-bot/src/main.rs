//! Echo bot: logs in (signing up the first time), joins a public chat and answers every
//! message with its text.

use chatter_sdk::{ChatId, Client, SdkError};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, username, password, chat] = args.as_slice() else {
        return Err("usage: echo-bot <server-url> <username> <password> <chat-id>".into());
    };
    let client = Client::builder().server(server).build().await?;
    if let Err(SdkError::Unauthenticated) = client.login(username, password).await {
        client.register(username, password, Some("Echo bot")).await?;
    }
    let chat = ChatId::new(chat.as_str());
    client.chat(&chat).join().await?;
    client.start_sync();
    let timeline = client.chat(&chat).timeline().await?;
    let mut incoming = Box::pin(timeline.live_messages());
    println!("echo-bot is answering in {chat}");
    while let Some(message) = incoming.next().await {
        if Some(&message.sender_id) != client.user_id().as_ref() && !message.deleted {
            timeline.send(format!("echo: {}", message.text)).await?;
        }
    }
    Ok(())
}
