//! `ChatHandle`: everything scoped to one chat.

use crate::convert::{from_js, to_js};
use crate::error::{JsResult, invalid, js};
use crate::subscription::{Subscription, observe};
use crate::timeline::Timeline;
use crate::views::ChatChanges;
use chatter_sdk::UserId;
use chatter_sdk::model::Role;
use wasm_bindgen::prelude::*;

/// One chat: its timeline, info, members, read markers and call.
#[wasm_bindgen]
pub struct ChatHandle {
    inner: chatter_sdk::ChatHandle,
}

impl ChatHandle {
    pub(crate) fn new(inner: chatter_sdk::ChatHandle) -> Self {
        Self { inner }
    }
}

#[wasm_bindgen]
impl ChatHandle {
    /// The chat's id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// The chat with the caller's role and the newest messages.
    #[wasm_bindgen(unchecked_return_type = "ChatView")]
    pub async fn info(&self) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.info().await)?))
    }

    /// The chat's timeline, live while sync runs.
    pub async fn timeline(&self) -> JsResult<Timeline> {
        Ok(Timeline::new(js(self.inner.timeline().await)?))
    }

    /// Joins the chat (a public group).
    #[wasm_bindgen(unchecked_return_type = "Chat")]
    pub async fn join(&self) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.join().await)?))
    }

    /// Leaves the chat.
    pub async fn leave(&self) -> JsResult<()> {
        js(self.inner.leave().await)
    }

    /// Renames the group or changes its visibility (owners and admins).
    #[wasm_bindgen(unchecked_return_type = "Chat")]
    pub async fn update(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ChatChanges")] changes: JsValue,
    ) -> JsResult<JsValue> {
        let c: ChatChanges = from_js(changes, "changes")?;
        Ok(to_js(&js(self.inner.update(c.title.as_deref(), c.visibility).await)?))
    }

    /// Every member, oldest first, with their read markers.
    #[wasm_bindgen(unchecked_return_type = "MemberView[]")]
    pub async fn members(&self) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.members().await)?))
    }

    /// Adds a user to the group (owners and admins).
    #[wasm_bindgen(unchecked_return_type = "MemberView")]
    pub async fn invite(&self, user: String) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.invite(&UserId::new(user)).await)?))
    }

    /// Removes a member.
    pub async fn kick(&self, user: String) -> JsResult<()> {
        js(self.inner.kick(&UserId::new(user)).await)
    }

    /// Makes a member an `admin` or a plain `member` (the owner only).
    #[wasm_bindgen(js_name = setRole, unchecked_return_type = "MemberView")]
    pub async fn set_role(
        &self,
        user: String,
        #[wasm_bindgen(unchecked_param_type = "Role")] role: JsValue,
    ) -> JsResult<JsValue> {
        let role: Role = from_js(role, "role")?;
        if role == Role::Owner {
            return Err(invalid("role", "the owner's role cannot be given"));
        }
        Ok(to_js(&js(self.inner.set_role(&UserId::new(user), role).await)?))
    }

    /// Marks the chat read up to its newest message.
    #[wasm_bindgen(js_name = markRead)]
    pub async fn mark_read(&self) -> JsResult<()> {
        js(self.inner.mark_read().await)
    }

    /// Each member's read marker (seq by user id), as last known.
    #[wasm_bindgen(js_name = readReceipts, unchecked_return_type = "Record<UserId, number>")]
    pub fn read_receipts(&self) -> JsValue {
        to_js(&self.inner.read_receipts().get())
    }

    /// Calls `callback` with the read markers now and at each change (`members()`
    /// fills them in; `chat.read` frames move them).
    #[wasm_bindgen(js_name = subscribeReadReceipts)]
    pub fn subscribe_read_receipts(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(markers: Record<UserId, number>) => void")] callback: js_sys::Function,
    ) -> Subscription {
        observe(self.inner.read_receipts(), to_js, callback)
    }

    /// Joins the chat's call (starting it if none runs): the microphone on by default,
    /// the camera with `{ camera: true }`.
    #[wasm_bindgen(js_name = joinCall)]
    pub async fn join_call(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JoinCallOptions | undefined")] options: JsValue,
    ) -> JsResult<crate::call::Call> {
        crate::call::join(&self.inner, options).await
    }

    /// The chat's running call, or `null`.
    #[wasm_bindgen(js_name = runningCall, unchecked_return_type = "CallInfo | null")]
    pub async fn running_call(&self) -> JsResult<JsValue> {
        Ok(to_js(&js(self.inner.running_call().await)?))
    }
}
