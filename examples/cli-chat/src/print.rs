//! How messages and chats look on the terminal.

use chatter_sdk::{ChatListItem, SendState, TimelineItem};

pub fn message(item: &TimelineItem, name: &str) -> String {
    let seq = item.seq.map_or_else(|| "…".to_owned(), |s| s.to_string());
    let text = if item.deleted { "(deleted)" } else { item.text.as_str() };
    let edited = if item.edited_at.is_some() { " (edited)" } else { "" };
    let state = match &item.send_state {
        SendState::Pending => " [sending]",
        SendState::Sent => "",
        SendState::Failed { .. } => " [failed]",
    };
    format!("[{seq}] {name}: {text}{edited}{state}")
}

pub fn chat(n: usize, item: &ChatListItem) -> String {
    let title = item.chat.title.clone().unwrap_or_else(|| "(direct)".into());
    let unread = if item.unread_count > 0 { format!(" ({} unread)", item.unread_count) } else { String::new() };
    format!("{n}. {title}{unread}  id {}", item.chat.id)
}
