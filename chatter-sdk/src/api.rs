//! The v1 REST API as typed calls over an [`HttpTransport`]: one place that builds URLs,
//! adds the token and maps error answers to [`SdkError`].

use crate::error::{Result, SdkError};
use crate::transport::{HttpRequest, HttpTransport, Method};
use chatter_core::model::{Chat, Message, User};
use chatter_core::protocol::{
    AddMemberRequest, AuthResponse, CallInfo, ChangePasswordRequest, ChatList, ChatView, CreateChatRequest,
    DeleteAccountRequest, EditMessageRequest, JoinResponse, JoinedCall, LoginRequest, MemberList, MemberView,
    MessageList, PublicChatList, ReadRequest, RegisterRequest, SessionList, SetRoleRequest, UpdateChatRequest,
    UpdateProfileRequest, UserList,
};
use chatter_core::{ChatId, MessageId, SessionId, UserId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};

/// Which page of a chat's history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HistoryPage {
    /// The newest messages.
    Latest,
    /// The highest messages with seq below this.
    Before(u64),
}

/// Typed REST calls for one server.
#[derive(Debug)]
pub(crate) struct Api {
    base: String,
    http: Arc<dyn HttpTransport>,
    token: RwLock<Option<String>>,
}

/// Percent-encodes a query or path value (everything but RFC 3986's unreserved bytes).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A query string from the pairs that have a value.
fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            out.push(if out.is_empty() { '?' } else { '&' });
            let _ = write!(out, "{k}={}", encode(v));
        }
    }
    out
}

impl Api {
    pub(crate) fn new(base: String, http: Arc<dyn HttpTransport>) -> Self {
        Self { base: base.trim_end_matches('/').to_owned(), http, token: RwLock::new(None) }
    }

    /// The server's base URL (`http://host:port`).
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn set_token(&self, token: Option<String>) {
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = token;
    }

    pub(crate) fn token(&self) -> Option<String> {
        self.token.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn raw(&self, method: Method, path: &str, body: Option<String>) -> Result<String> {
        // An empty token is a cookie session: the browser sends the cookie.
        let bearer = self.token().filter(|t| !t.is_empty());
        let request = HttpRequest { method, url: format!("{}{path}", self.base), bearer, body };
        let response = self.http.send(request).await.map_err(|e| SdkError::Network(e.0))?;
        if (200..300).contains(&response.status) {
            Ok(response.body)
        } else {
            Err(SdkError::from_response(response.status, &response.body, response.retry_after))
        }
    }

    async fn call<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<&impl Serialize>) -> Result<T> {
        let body = body.map(serde_json::to_string).transpose().map_err(|e| SdkError::InvalidRequest(e.to_string()))?;
        let text = self.raw(method, path, body).await?;
        serde_json::from_str(&text).map_err(|e| SdkError::Server {
            status: 200,
            code: "bad_response".into(),
            message: e.to_string(),
            retry_after: None,
        })
    }

    async fn call_empty(&self, method: Method, path: &str, body: Option<&impl Serialize>) -> Result<()> {
        let body = body.map(serde_json::to_string).transpose().map_err(|e| SdkError::InvalidRequest(e.to_string()))?;
        self.raw(method, path, body).await.map(drop)
    }

    // Accounts and sessions.

    pub(crate) async fn register(&self, req: &RegisterRequest) -> Result<AuthResponse> {
        self.call(Method::Post, "/v1/users", Some(req)).await
    }

    pub(crate) async fn login(&self, req: &LoginRequest) -> Result<AuthResponse> {
        self.call(Method::Post, "/v1/sessions", Some(req)).await
    }

    pub(crate) async fn logout(&self) -> Result<()> {
        self.call_empty(Method::Delete, "/v1/sessions/current", None::<&()>).await
    }

    pub(crate) async fn sessions(&self) -> Result<SessionList> {
        self.call(Method::Get, "/v1/sessions", None::<&()>).await
    }

    pub(crate) async fn revoke_session(&self, id: &SessionId) -> Result<()> {
        self.call_empty(Method::Delete, &format!("/v1/sessions/{}", encode(id.as_str())), None::<&()>).await
    }

    pub(crate) async fn me(&self) -> Result<User> {
        self.call(Method::Get, "/v1/users/me", None::<&()>).await
    }

    pub(crate) async fn update_me(&self, req: &UpdateProfileRequest) -> Result<User> {
        self.call(Method::Patch, "/v1/users/me", Some(req)).await
    }

    pub(crate) async fn change_password(&self, req: &ChangePasswordRequest) -> Result<()> {
        self.call_empty(Method::Post, "/v1/users/me/password", Some(req)).await
    }

    pub(crate) async fn delete_me(&self, req: &DeleteAccountRequest) -> Result<()> {
        self.call_empty(Method::Delete, "/v1/users/me", Some(req)).await
    }

    pub(crate) async fn user(&self, id: &UserId) -> Result<User> {
        self.call(Method::Get, &format!("/v1/users/{}", encode(id.as_str())), None::<&()>).await
    }

    pub(crate) async fn search_users(&self, q: &str, limit: Option<u32>, cursor: Option<&str>) -> Result<UserList> {
        let q = query(&[
            ("q", Some(q.to_owned())),
            ("limit", limit.map(|l| l.to_string())),
            ("cursor", cursor.map(str::to_owned)),
        ]);
        self.call(Method::Get, &format!("/v1/users{q}"), None::<&()>).await
    }

    // Chats.

    pub(crate) async fn create_chat(&self, req: &CreateChatRequest) -> Result<Chat> {
        self.call(Method::Post, "/v1/chats", Some(req)).await
    }

    pub(crate) async fn chats(&self, cursor: Option<&str>) -> Result<ChatList> {
        let q = query(&[("limit", Some("100".into())), ("cursor", cursor.map(str::to_owned))]);
        self.call(Method::Get, &format!("/v1/chats{q}"), None::<&()>).await
    }

    pub(crate) async fn public_chats(&self, q: &str, cursor: Option<&str>) -> Result<PublicChatList> {
        let q = query(&[("q", Some(q.to_owned())), ("cursor", cursor.map(str::to_owned))]);
        self.call(Method::Get, &format!("/v1/chats/public{q}"), None::<&()>).await
    }

    pub(crate) async fn chat(&self, id: &ChatId) -> Result<ChatView> {
        self.call(Method::Get, &chat_path(id, ""), None::<&()>).await
    }

    pub(crate) async fn update_chat(&self, id: &ChatId, req: &UpdateChatRequest) -> Result<Chat> {
        self.call(Method::Patch, &chat_path(id, ""), Some(req)).await
    }

    pub(crate) async fn join(&self, id: &ChatId) -> Result<JoinResponse> {
        self.call(Method::Post, &chat_path(id, "/join"), None::<&()>).await
    }

    pub(crate) async fn leave(&self, id: &ChatId) -> Result<()> {
        self.call_empty(Method::Post, &chat_path(id, "/leave"), None::<&()>).await
    }

    // Calls run natively only (their media is the `webrtc` crate's).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) async fn join_call(&self, id: &ChatId) -> Result<JoinedCall> {
        self.call(Method::Post, &chat_path(id, "/call"), None::<&()>).await
    }

    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) async fn call_info(&self, id: &ChatId) -> Result<CallInfo> {
        self.call(Method::Get, &chat_path(id, "/call"), None::<&()>).await
    }

    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) async fn leave_call(&self, id: &ChatId) -> Result<()> {
        self.call_empty(Method::Post, &chat_path(id, "/call/leave"), None::<&()>).await
    }

    pub(crate) async fn mark_read(&self, id: &ChatId, seq: u64) -> Result<()> {
        self.call_empty(Method::Post, &chat_path(id, "/read"), Some(&ReadRequest { seq })).await
    }

    // Members.

    pub(crate) async fn members(&self, id: &ChatId, cursor: Option<&str>) -> Result<MemberList> {
        let q = query(&[("limit", Some("100".into())), ("cursor", cursor.map(str::to_owned))]);
        self.call(Method::Get, &chat_path(id, &format!("/members{q}")), None::<&()>).await
    }

    pub(crate) async fn add_member(&self, id: &ChatId, user_id: &UserId) -> Result<MemberView> {
        self.call(Method::Post, &chat_path(id, "/members"), Some(&AddMemberRequest { user_id: user_id.clone() })).await
    }

    pub(crate) async fn set_role(&self, id: &ChatId, user_id: &UserId, role: &str) -> Result<MemberView> {
        let path = chat_path(id, &format!("/members/{}", encode(user_id.as_str())));
        self.call(Method::Patch, &path, Some(&SetRoleRequest { role: role.to_owned() })).await
    }

    pub(crate) async fn remove_member(&self, id: &ChatId, user_id: &UserId) -> Result<()> {
        let path = chat_path(id, &format!("/members/{}", encode(user_id.as_str())));
        self.call_empty(Method::Delete, &path, None::<&()>).await
    }

    // Messages.

    pub(crate) async fn messages(&self, id: &ChatId, page: HistoryPage, limit: u32) -> Result<Vec<Message>> {
        let before = match page {
            HistoryPage::Latest => None,
            HistoryPage::Before(seq) => Some(seq.to_string()),
        };
        let q = query(&[("limit", Some(limit.to_string())), ("before_seq", before)]);
        let list: MessageList = self.call(Method::Get, &chat_path(id, &format!("/messages{q}")), None::<&()>).await?;
        Ok(list.messages)
    }

    pub(crate) async fn edit(&self, id: &ChatId, message_id: &MessageId, text: &str) -> Result<Message> {
        let path = chat_path(id, &format!("/messages/{}", encode(message_id.as_str())));
        self.call(Method::Patch, &path, Some(&EditMessageRequest { text: text.to_owned() })).await
    }

    pub(crate) async fn delete(&self, id: &ChatId, message_id: &MessageId) -> Result<()> {
        let path = chat_path(id, &format!("/messages/{}", encode(message_id.as_str())));
        self.call_empty(Method::Delete, &path, None::<&()>).await
    }
}

fn chat_path(id: &ChatId, rest: &str) -> String {
    format!("/v1/chats/{}{rest}", encode(id.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_encoded_and_empty_pairs_dropped() {
        assert_eq!(encode("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
        assert_eq!(
            query(&[("q", Some("x y".into())), ("cursor", None), ("limit", Some("5".into()))]),
            "?q=x%20y&limit=5"
        );
        assert_eq!(query(&[("cursor", None)]), "");
    }
}
