//! `Timeline`: one chat's messages, live, with local echoes of sends.

use crate::convert::to_js;
use crate::error::{JsResult, js};
use crate::subscription::{Subscription, observe, observe_list};
use crate::views::TimelineItem;
use chatter_sdk::MessageId;
use wasm_bindgen::prelude::*;

/// A chat's messages, oldest first, kept live while sync runs.
#[wasm_bindgen]
pub struct Timeline {
    inner: chatter_sdk::Timeline,
}

impl Timeline {
    pub(crate) fn new(inner: chatter_sdk::Timeline) -> Self {
        Self { inner }
    }
}

fn items(timeline: &chatter_sdk::Timeline) -> JsValue {
    to_js(&timeline.items().iter().map(TimelineItem::from).collect::<Vec<_>>())
}

#[wasm_bindgen]
impl Timeline {
    /// The chat's id.
    #[wasm_bindgen(getter, js_name = chatId)]
    pub fn chat_id(&self) -> String {
        self.inner.chat_id().to_string()
    }

    /// The items now.
    #[wasm_bindgen(unchecked_return_type = "TimelineItem[]")]
    pub fn items(&self) -> JsValue {
        items(&self.inner)
    }

    /// Calls `callback` with the items now and after each change.
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(items: TimelineItem[]) => void")] callback: js_sys::Function,
    ) -> Subscription {
        let (_, changes) = self.inner.subscribe();
        let timeline = self.inner.clone();
        observe_list(Box::pin(changes), move || items(&timeline), callback)
    }

    /// Loads up to `n` older messages; answers `true` once the start of the chat is
    /// reached.
    #[wasm_bindgen(js_name = paginateBackwards)]
    pub async fn paginate_backwards(&self, n: u32) -> JsResult<bool> {
        js(self.inner.paginate_backwards(n).await)
    }

    /// Sends `text` (queued while offline); answers its `client_id`.
    pub async fn send(&self, text: String) -> JsResult<String> {
        js(self.inner.send(text).await)
    }

    /// Sends `text` as an answer to `replyTo`.
    #[wasm_bindgen(js_name = sendReply)]
    pub async fn send_reply(&self, text: String, reply_to: String) -> JsResult<String> {
        js(self.inner.send_reply(text, &MessageId::new(reply_to)).await)
    }

    /// Sends a failed message again (stored at most once).
    #[wasm_bindgen(js_name = retrySend)]
    pub async fn retry_send(&self, client_id: String) -> JsResult<()> {
        js(self.inner.retry_send(&client_id).await)
    }

    /// Drops a message not yet sent.
    #[wasm_bindgen(js_name = cancelSend)]
    pub async fn cancel_send(&self, client_id: String) -> JsResult<()> {
        js(self.inner.cancel_send(&client_id).await)
    }

    /// Edits one of the user's messages.
    pub async fn edit(&self, message_id: String, text: String) -> JsResult<()> {
        js(self.inner.edit(&MessageId::new(message_id), text).await)
    }

    /// Deletes one of the user's messages (its text is gone for everyone).
    pub async fn delete(&self, message_id: String) -> JsResult<()> {
        js(self.inner.delete(&MessageId::new(message_id)).await)
    }

    /// Tells the others the user is typing (throttled).
    #[wasm_bindgen(js_name = sendTyping)]
    pub fn send_typing(&self) {
        self.inner.send_typing();
    }

    /// Who is typing now.
    #[wasm_bindgen(js_name = typingUsers, unchecked_return_type = "UserId[]")]
    pub fn typing_users(&self) -> JsValue {
        to_js(&self.inner.typing_users().get())
    }

    /// Calls `callback` with who is typing now and at each change.
    #[wasm_bindgen(js_name = subscribeTyping)]
    pub fn subscribe_typing(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(users: UserId[]) => void")] callback: js_sys::Function,
    ) -> Subscription {
        observe(self.inner.typing_users(), to_js, callback)
    }

    /// Marks the chat read up to the newest message.
    #[wasm_bindgen(js_name = markRead)]
    pub async fn mark_read(&self) -> JsResult<()> {
        js(self.inner.mark_read().await)
    }
}
