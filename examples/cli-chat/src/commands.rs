//! The commands typed at the prompt.

use crate::{Screen, print};
use chatter_sdk::model::Visibility;
use chatter_sdk::{ChatId, Client, Result, SdkError, Timeline, TimelineItem, UserId};
use futures::StreamExt;
use std::collections::HashMap;

/// What to do after a command.
pub enum Next {
    Continue,
    Quit,
}

const HELP: &str = "/register <user> <password>   sign up
/login <user> <password>      log in
/logout                       log out
/chats                        list your chats
/open <n | chat-id>           open a chat: its last messages, then live ones
/more                         older messages of the open chat
/new <title>                  create a private group
/join <chat-id>               join a public group
/invite <username>            add someone to the open chat
/quit                         leave (the session is kept)
anything else                 send it to the open chat";

pub async fn run(screen: &mut Screen, line: &str) -> Result<Next> {
    let mut words = line.split_whitespace();
    let client = screen.client.clone();
    match (words.next(), words.next(), words.next()) {
        (None, ..) => {}
        (Some("/help"), ..) => println!("{HELP}"),
        (Some("/quit"), ..) => return Ok(Next::Quit),
        (Some("/register"), Some(user), Some(password)) => {
            let me = client.register(user, password, None).await?;
            client.start_sync();
            println!("Welcome, {}.", me.username);
        }
        (Some("/login"), Some(user), Some(password)) => {
            let me = client.login(user, password).await?;
            client.start_sync();
            println!("Hello again, {}.", me.username);
        }
        (Some("/logout"), ..) => {
            close(screen);
            client.logout().await?;
            println!("Logged out.");
        }
        (Some("/chats"), ..) => {
            let chats = client.chat_list().items();
            if chats.is_empty() {
                println!("No chats yet: /new <title> or /join <chat-id>.");
            }
            for (n, item) in chats.iter().enumerate() {
                println!("{}", print::chat(n + 1, item));
            }
        }
        (Some("/open"), Some(which), _) => {
            let chats = client.chat_list().items();
            let id = match which.parse::<usize>() {
                Ok(n) if (1..=chats.len()).contains(&n) => chats[n - 1].chat.id.clone(),
                _ => ChatId::new(which),
            };
            open(screen, &id).await?;
        }
        (Some("/more"), ..) => {
            let (timeline, _) = screen.open.as_ref().ok_or_else(no_chat)?;
            let before = timeline.items().iter().find_map(|i| i.seq);
            let at_start = timeline.paginate_backwards(20).await?;
            let names = names(&client, &timeline.items().iter().cloned().collect::<Vec<_>>()).await;
            for item in timeline.items().iter().take_while(|i| i.seq < before) {
                println!("{}", print::message(item, &names[&item.sender_id]));
            }
            if at_start {
                println!("(start of the chat)");
            }
        }
        (Some("/new"), Some(_), _) => {
            let title = line.trim_start_matches("/new").trim();
            let chat = client.create_group(title, Visibility::Private, &[]).await?;
            println!("Created {title}.");
            open(screen, &chat.id).await?;
        }
        (Some("/join"), Some(id), _) => {
            let chat = client.chat(&ChatId::new(id)).join().await?;
            open(screen, &chat.id).await?;
        }
        (Some("/invite"), Some(username), _) => {
            let (timeline, _) = screen.open.as_ref().ok_or_else(no_chat)?;
            let found = client.search_users(username, None).await?;
            let user = found
                .users
                .into_iter()
                .find(|u| u.username == username)
                .ok_or_else(|| SdkError::NotFound(format!("user {username}")))?;
            client.chat(timeline.chat_id()).invite(&user.id).await?;
            println!("Added {username}.");
        }
        (Some(command), ..) if command.starts_with('/') => println!("Unknown or incomplete command. /help"),
        _ => {
            let (timeline, _) = screen.open.as_ref().ok_or_else(no_chat)?;
            timeline.send(line).await?;
        }
    }
    Ok(Next::Continue)
}

fn no_chat() -> SdkError {
    SdkError::InvalidRequest("open a chat first: /chats, then /open <n>".into())
}

fn close(screen: &mut Screen) {
    if let Some((_, printer)) = screen.open.take() {
        printer.abort();
    }
}

/// Display names of the senders of `items`.
async fn names(client: &Client, items: &[TimelineItem]) -> HashMap<UserId, String> {
    let mut names = HashMap::new();
    for item in items {
        if !names.contains_key(&item.sender_id) {
            let name = client.user(&item.sender_id).await.map(|u| u.username).unwrap_or_else(|_| "?".into());
            names.insert(item.sender_id.clone(), name);
        }
    }
    names
}

/// Opens a chat: prints its last messages, then its live ones as they come.
async fn open(screen: &mut Screen, id: &ChatId) -> Result<()> {
    close(screen);
    let client = screen.client.clone();
    let timeline: Timeline = client.chat(id).timeline().await?;
    let items: Vec<TimelineItem> = timeline.items().iter().cloned().collect();
    let mut known = names(&client, &items).await;
    for item in items.iter().rev().take(20).rev() {
        println!("{}", print::message(item, &known[&item.sender_id]));
    }
    println!("-- {id}: type to send, /more for older messages");
    let live = timeline.live_messages();
    let printer = tokio::spawn(async move {
        let mut live = Box::pin(live);
        while let Some(item) = live.next().await {
            if !known.contains_key(&item.sender_id) {
                known.extend(names(&client, std::slice::from_ref(&item)).await);
            }
            println!("{}", print::message(&item, &known[&item.sender_id]));
        }
    });
    screen.open = Some((timeline, printer));
    Ok(())
}
