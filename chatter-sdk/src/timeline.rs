//! A chat's messages as observable state: live updates, backwards pagination, sends
//! with local echo, edits, deletions, typing and the read marker.

use crate::client::Client;
use crate::error::Result;
use chatter_core::{ChatId, MessageId, UserId};
use eyeball::Subscriber;
use eyeball_im::{Vector, VectorDiff};
use futures::{Stream, StreamExt};

pub use crate::state::{SendState, TimelineItem};

/// A chat's timeline. Get one with [`ChatHandle::timeline`](crate::ChatHandle::timeline); it stays current while the
/// sync service runs, across reconnects, without re-reading what it already has.
///
/// ```no_run
/// # async fn demo(client: chatter_sdk::Client, chat_id: chatter_sdk::ChatId) -> chatter_sdk::Result<()> {
/// use futures::StreamExt;
///
/// let timeline = client.chat(&chat_id).timeline().await?;
/// let (items, mut diffs) = timeline.subscribe();
/// println!("{} messages loaded", items.len());
/// timeline.send("hello").await?;
/// while !timeline.paginate_backwards(50).await? {}
/// while let Some(diff) = diffs.next().await {
///     println!("{diff:?}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Timeline {
    client: Client,
    chat_id: ChatId,
}

/// Messages read per page when a timeline opens.
const FIRST_PAGE: u32 = 50;

impl Timeline {
    pub(crate) async fn open(client: Client, chat_id: ChatId) -> Result<Self> {
        let timeline = Self { client, chat_id };
        timeline.client.inner.state().open_timeline(&timeline.chat_id, &timeline.client.inner.me()?);
        if !timeline.client.inner.state().timeline_loaded(&timeline.chat_id) {
            let epoch = timeline.client.inner.state().timeline_epoch(&timeline.chat_id);
            let page = timeline
                .client
                .inner
                .api
                .messages(&timeline.chat_id, crate::api::HistoryPage::Latest, FIRST_PAGE)
                .await?;
            // A reset meanwhile loaded a newer page itself: this one is stale.
            let mut state = timeline.client.inner.state();
            if state.timeline_epoch(&timeline.chat_id) == epoch {
                state.merge_page(&timeline.chat_id, page, FIRST_PAGE as usize, true);
            }
        }
        Ok(timeline)
    }

    /// The chat.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// println!("showing {}", timeline.chat_id());
    /// # Ok(()) }
    /// ```
    pub fn chat_id(&self) -> &ChatId {
        &self.chat_id
    }

    /// The items now: stored messages in seq order, then the user's unsent ones.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// for item in timeline.items() {
    ///     println!("{:?} {}: {}", item.seq, item.sender_id, item.text);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn items(&self) -> Vector<TimelineItem> {
        self.client.inner.state().timeline_items(&self.chat_id)
    }

    /// The items now, and a stream of every later change to apply to them.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// use futures::StreamExt;
    /// let (mut items, mut diffs) = timeline.subscribe();
    /// while let Some(diff) = diffs.next().await {
    ///     diff.apply(&mut items); // or map it onto a list widget
    /// }
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self) -> (Vector<TimelineItem>, impl Stream<Item = VectorDiff<TimelineItem>> + use<>) {
        self.client.inner.state().subscribe_timeline(&self.chat_id)
    }

    /// Messages stored from now on, as they arrive (the user's own included, once
    /// stored), in seq order: the simplest way to react to new messages.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline, me: chatter_sdk::UserId) -> chatter_sdk::Result<()> {
    /// use futures::StreamExt;
    ///
    /// let mut incoming = Box::pin(timeline.live_messages());
    /// while let Some(message) = incoming.next().await {
    ///     if message.sender_id != me {
    ///         timeline.send(format!("you said: {}", message.text)).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn live_messages(&self) -> impl Stream<Item = TimelineItem> + use<> {
        let (items, diffs) = self.subscribe();
        let mut newest = items.iter().filter_map(|i| i.seq).max().unwrap_or(0);
        diffs.flat_map(move |diff| {
            let inserted = match diff {
                VectorDiff::PushBack { value } | VectorDiff::PushFront { value } | VectorDiff::Insert { value, .. } => {
                    vec![value]
                }
                VectorDiff::Append { values } | VectorDiff::Reset { values } => values.into_iter().collect(),
                _ => Vec::new(),
            };
            let mut fresh = Vec::new();
            for item in inserted {
                if let Some(seq) = item.seq.filter(|&s| s > newest) {
                    newest = seq;
                    fresh.push(item);
                }
            }
            futures::stream::iter(fresh)
        })
    }

    /// Loads up to `n` older messages; answers whether the start of the chat is reached.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// while !timeline.paginate_backwards(50).await? {} // read the whole history
    /// # Ok(()) }
    /// ```
    pub async fn paginate_backwards(&self, n: u32) -> Result<bool> {
        let Some(first) = self.client.inner.state().timeline_first_seq(&self.chat_id)? else {
            return Ok(true);
        };
        if first <= 1 {
            self.client.inner.state().mark_start(&self.chat_id);
            return Ok(true);
        }
        let epoch = self.client.inner.state().timeline_epoch(&self.chat_id);
        let page = self.client.inner.api.messages(&self.chat_id, crate::api::HistoryPage::Before(first), n).await?;
        let mut state = self.client.inner.state();
        if state.timeline_epoch(&self.chat_id) != epoch {
            // Reset meanwhile: this older page would leave a hole; the caller pages again.
            return Ok(false);
        }
        Ok(state.merge_page(&self.chat_id, page, n as usize, false))
    }

    /// Sends `text`: it shows at once as a pending echo, goes out when connected (queued
    /// while offline, in order), and turns into the stored message. Answers its
    /// `client_id`.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// let client_id = timeline.send("on my way").await?; // shows at once as Pending
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, text: impl Into<String>) -> Result<String> {
        self.client.inner.enqueue(&self.chat_id, text.into(), None).await
    }

    /// Sends `text` as an answer to `reply_to`.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// # let id = chatter_sdk::MessageId::new("m1");
    /// timeline.send_reply("agreed", &id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_reply(&self, text: impl Into<String>, reply_to: &MessageId) -> Result<String> {
        self.client.inner.enqueue(&self.chat_id, text.into(), Some(reply_to.clone())).await
    }

    /// Sends a failed message again (same `client_id`: it is stored at most once).
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// use chatter_sdk::SendState;
    /// for item in timeline.items() {
    ///     if let (SendState::Failed { retryable: true, .. }, Some(id)) = (&item.send_state, &item.client_id) {
    ///         timeline.retry_send(id).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn retry_send(&self, client_id: &str) -> Result<()> {
        self.client.inner.retry(client_id).await
    }

    /// Drops a failed or pending message the user no longer wants sent.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// let client_id = timeline.send("oops").await?;
    /// timeline.cancel_send(&client_id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn cancel_send(&self, client_id: &str) -> Result<()> {
        self.client.inner.cancel(client_id).await
    }

    /// Changes a message's text (the user's own).
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// # let id = chatter_sdk::MessageId::new("m1");
    /// timeline.edit(&id, "fixed the typo").await?;
    /// # Ok(()) }
    /// ```
    pub async fn edit(&self, message_id: &MessageId, text: impl Into<String>) -> Result<()> {
        let message = self.client.inner.api.edit(&self.chat_id, message_id, &text.into()).await?;
        self.client.inner.state().upsert_message(message);
        Ok(())
    }

    /// Deletes a message (the user's own, or any as an owner or admin).
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// # let id = chatter_sdk::MessageId::new("m1");
    /// timeline.delete(&id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, message_id: &MessageId) -> Result<()> {
        self.client.inner.api.delete(&self.chat_id, message_id).await
    }

    /// Tells the others the user is typing (sent at most every 3 s by the server; drop
    /// it when offline).
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// timeline.send_typing(); // call as the user types; the server throttles
    /// # Ok(()) }
    /// ```
    pub fn send_typing(&self) {
        self.client.inner.send_frame(chatter_core::protocol::ws::ClientFrame::Typing { chat_id: self.chat_id.clone() });
    }

    /// Who is typing in this chat now (entries expire after 6 s).
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// let typing = timeline.typing_users();
    /// println!("{} typing", typing.get().len());
    /// # Ok(()) }
    /// ```
    pub fn typing_users(&self) -> Subscriber<Vec<UserId>> {
        self.client.inner.state().typing(&self.chat_id).subscribe()
    }

    /// Moves the user's read marker to the newest loaded message.
    ///
    /// ```no_run
    /// # async fn demo(timeline: chatter_sdk::Timeline) -> chatter_sdk::Result<()> {
    /// timeline.mark_read().await?;
    /// # Ok(()) }
    /// ```
    pub async fn mark_read(&self) -> Result<()> {
        self.client.chat(&self.chat_id).mark_read().await
    }
}
