//! The user's chats as observable state.

use crate::client::Client;
use eyeball_im::{Vector, VectorDiff};
use futures::Stream;

pub use crate::state::ChatListItem;

/// A live view of the user's chats, most recently active first, kept current by the
/// sync service (new messages, unread counts, renames, chats added and removed).
///
/// ```no_run
/// # async fn demo(client: chatter_sdk::Client) {
/// use futures::StreamExt;
///
/// let list = client.chat_list();
/// let (items, mut diffs) = list.subscribe();
/// for item in &items {
///     println!("{:?}: {} unread", item.chat.title, item.unread_count);
/// }
/// while let Some(diff) = diffs.next().await {
///     println!("changed: {diff:?}");
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ChatList {
    client: Client,
}

impl ChatList {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// The chats now.
    ///
    /// ```no_run
    /// # async fn demo(list: chatter_sdk::ChatList) -> chatter_sdk::Result<()> {
    /// let unread: u64 = list.items().iter().map(|c| c.unread_count).sum();
    /// # Ok(()) }
    /// ```
    pub fn items(&self) -> Vector<ChatListItem> {
        self.client.inner.state().chat_items()
    }

    /// The chats now, and a stream of every later change to apply to them.
    ///
    /// ```no_run
    /// # async fn demo(list: chatter_sdk::ChatList) -> chatter_sdk::Result<()> {
    /// use futures::StreamExt;
    /// let (mut chats, mut diffs) = list.subscribe();
    /// while let Some(diff) = diffs.next().await {
    ///     diff.apply(&mut chats);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self) -> (Vector<ChatListItem>, impl Stream<Item = VectorDiff<ChatListItem>> + use<>) {
        self.client.inner.state().subscribe_chats()
    }
}

impl Client {
    /// The user's chats, kept current by the sync service.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// for item in client.chat_list().items() {
    ///     println!("{:?}: {} unread", item.chat.title, item.unread_count);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn chat_list(&self) -> ChatList {
        ChatList::new(self.clone())
    }
}
