//! A chat's handle: everything scoped to one chat (its timeline, info, members and
//! roles, joining and leaving, the read marker, its call), as matrix-sdk's `Room` is to
//! its `Client`. Made by [`Client::chat`] without I/O; cheap to clone.

use crate::api::HistoryPage;
use crate::client::Client;
use crate::error::{Result, SdkError};
use crate::state::ChatListItem;
use crate::timeline::Timeline;
use chatter_core::model::{Chat, Message, Role, Visibility};
use chatter_core::protocol::{ChatView, MemberView};
use chatter_core::{ChatId, UserId};
use eyeball::Subscriber;
use std::collections::BTreeMap;

/// One chat, as the user acts on it.
///
/// ```no_run
/// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
/// use chatter_sdk::model::Role;
///
/// let chat = client.chat(&"c_team".into());
/// chat.invite(&"u_carol".into()).await?;
/// chat.set_role(&"u_carol".into(), Role::Admin).await?;
/// let timeline = chat.timeline().await?;
/// timeline.send("Welcome, Carol!").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ChatHandle {
    client: Client,
    id: ChatId,
}

impl ChatHandle {
    pub(crate) fn new(client: Client, id: ChatId) -> Self {
        Self { client, id }
    }

    /// The chat's id.
    ///
    /// ```no_run
    /// # fn demo(client: chatter_sdk::Client) {
    /// let chat = client.chat(&"c_team".into());
    /// assert_eq!(chat.id().as_str(), "c_team");
    /// # }
    /// ```
    pub fn id(&self) -> &ChatId {
        &self.id
    }

    /// What the chat list knows of the chat now (no I/O): `None` when the user is not in
    /// it, or sync has not learnt of it yet.
    ///
    /// ```no_run
    /// # fn demo(client: chatter_sdk::Client) {
    /// if let Some(item) = client.chat(&"c_team".into()).cached() {
    ///     println!("{:?}: {} unread", item.chat.title, item.unread_count);
    /// }
    /// # }
    /// ```
    pub fn cached(&self) -> Option<ChatListItem> {
        self.client.inner.state().chat_items().into_iter().find(|item| item.chat.id == self.id)
    }

    /// Reads the chat from the server: its summary for members, the plain chat for
    /// visitors of a public group.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::protocol::ChatView;
    /// if let ChatView::Member(summary) = client.chat(&"c_team".into()).info().await? {
    ///     println!("{} unread", summary.unread_count);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn info(&self) -> Result<ChatView> {
        self.client.call(self.client.inner.api.chat(&self.id)).await
    }

    /// The chat's timeline (reading its newest page the first time).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let timeline = client.chat(&"c_team".into()).timeline().await?;
    /// println!("{} messages loaded", timeline.items().len());
    /// # Ok(()) }
    /// ```
    pub async fn timeline(&self) -> Result<Timeline> {
        self.client.call(Timeline::open(self.client.clone(), self.id.clone())).await
    }

    /// Joins the chat (a public group); its timeline starts with the page the join
    /// returned. Joining a chat the user is in changes nothing.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let rust = client.chat(&"c_rust".into());
    /// rust.join().await?;
    /// let timeline = rust.timeline().await?; // no second read: the join brought a page
    /// # Ok(()) }
    /// ```
    pub async fn join(&self) -> Result<Chat> {
        let joined = self.client.call(self.client.inner.api.join(&self.id)).await?;
        let me = self.client.inner.me()?;
        let mut state = self.client.inner.state();
        let last = joined.messages.last().cloned();
        let item = ChatListItem {
            chat: joined.chat.clone(),
            role: Role::Member,
            unread_count: 0,
            read_seq: last.as_ref().map_or(0, |m| m.seq),
            last_message: last,
        };
        state.learn_chat(item);
        state.open_timeline(&self.id, &me);
        let size = joined.messages.len().max(1);
        state.merge_page(&self.id, joined.messages, size, true);
        Ok(joined.chat)
    }

    /// Leaves the chat (a group).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.chat(&"c_rust".into()).leave().await?;
    /// # Ok(()) }
    /// ```
    pub async fn leave(&self) -> Result<()> {
        self.client.call(self.client.inner.api.leave(&self.id)).await?;
        self.client.inner.state().forget_chat(&self.id);
        Ok(())
    }

    /// Renames the group or changes its visibility (owners and admins); `None` keeps a
    /// field as it is.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::model::Visibility;
    /// client.chat(&"c_team".into()).update(Some("Team (archived)"), Some(Visibility::Private)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, title: Option<&str>, visibility: Option<Visibility>) -> Result<Chat> {
        let req = chatter_core::protocol::UpdateChatRequest { title: title.map(str::to_owned), visibility };
        self.client.call(self.client.inner.api.update_chat(&self.id, &req)).await
    }

    /// Every member, oldest first (read page by page), with their read markers, which
    /// also fill [`ChatHandle::read_receipts`].
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// for m in client.chat(&"c_team".into()).members().await? {
    ///     println!("{} ({:?})", m.user.username, m.role);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn members(&self) -> Result<Vec<MemberView>> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.client.call(self.client.inner.api.members(&self.id, cursor.as_deref())).await?;
            {
                // The list carries every member's read marker: it seeds the receipts.
                let mut state = self.client.inner.state();
                for member in &page.members {
                    state.awareness.receipt(&self.id, &member.user.id, member.read_seq);
                }
            }
            all.extend(page.members);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Adds a user to the group (owners and admins).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.chat(&"c_team".into()).invite(&"u_carol".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn invite(&self, user: &UserId) -> Result<MemberView> {
        self.client.call(self.client.inner.api.add_member(&self.id, user)).await
    }

    /// Removes a member from the group (the owner anyone, admins plain members).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.chat(&"c_team".into()).kick(&"u_carol".into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn kick(&self, user: &UserId) -> Result<()> {
        self.client.call(self.client.inner.api.remove_member(&self.id, user)).await
    }

    /// Makes a member an admin or a plain member (the owner only). Ownership is not
    /// given this way (it passes when the owner leaves): `Role::Owner` is refused here.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::model::Role;
    /// client.chat(&"c_team".into()).set_role(&"u_bob".into(), Role::Admin).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_role(&self, user: &UserId, role: Role) -> Result<MemberView> {
        if role == Role::Owner {
            return Err(SdkError::Validation {
                field: Some("role".into()),
                message: "ownership passes only when the owner leaves".into(),
            });
        }
        self.client.call(self.client.inner.api.set_role(&self.id, user, role.as_str())).await
    }

    /// The newest `limit` messages, read from the server (a timeline keeps them current
    /// instead).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let newest = client.chat(&"c_team".into()).latest_messages(20).await?;
    /// # Ok(()) }
    /// ```
    pub async fn latest_messages(&self, limit: u32) -> Result<Vec<Message>> {
        self.client.call(self.client.inner.api.messages(&self.id, HistoryPage::Latest, limit)).await
    }

    /// Moves the user's read marker to the newest message the client knows of in the
    /// chat (the chat list's unread count follows).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// client.chat(&"c_team".into()).mark_read().await?;
    /// # Ok(()) }
    /// ```
    pub async fn mark_read(&self) -> Result<()> {
        let newest = {
            let state = self.client.inner.state();
            state
                .timeline_last_seq(&self.id)
                .or_else(|| state.chat_items().into_iter().find(|i| i.chat.id == self.id).map(|i| i.chat.last_seq))
        };
        let Some(seq) = newest.filter(|&seq| seq > 0) else { return Ok(()) };
        self.client.call(self.client.inner.api.mark_read(&self.id, seq)).await?;
        self.client.inner.state().read_locally(&self.id, seq);
        Ok(())
    }

    /// How far each member has read the chat (their read marker, by user): as
    /// [`ChatHandle::members`] last read them, then as the server announces changes while
    /// sync runs. Read the members once when the chat opens to know the markers from the
    /// start.
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let chat = client.chat(&"c_team".into());
    /// let seen_by: Vec<_> = chat.read_receipts().get().into_iter().filter(|(_, seq)| *seq >= 42).collect();
    /// # Ok(()) }
    /// ```
    pub fn read_receipts(&self) -> Subscriber<BTreeMap<UserId, u64>> {
        self.client.inner.state().awareness.receipts(&self.id).subscribe()
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }
}

impl Client {
    /// The handle of one chat, for everything scoped to it (no I/O: the chat is not
    /// checked until the handle is used).
    ///
    /// ```no_run
    /// # async fn demo(client: chatter_sdk::Client) -> chatter_sdk::Result<()> {
    /// let chat = client.chat(&"c_team".into());
    /// let timeline = chat.timeline().await?;
    /// for member in chat.members().await? {
    ///     println!("{}", member.user.display_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn chat(&self, id: &ChatId) -> ChatHandle {
        ChatHandle::new(self.clone(), id.clone())
    }
}
