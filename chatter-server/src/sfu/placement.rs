//! Where calls live when several nodes serve one deployment: each call on one node, the
//! one that started it. The records are in Redis (see the Redis broker's `placement`);
//! they expire unless their node refreshes them, so a dead node's calls are forgotten.

use super::SfuError;
use async_trait::async_trait;
use chatter_core::{CallId, ChatId};

/// The records of which node hosts which call.
#[async_trait]
pub trait Placement: Send + Sync + std::fmt::Debug {
    /// This node's id, as the others address it.
    fn node(&self) -> &str;

    /// The node hosting the chat's call; when none does, this node, which claims it (one
    /// claim wins when nodes race).
    async fn claim(&self, chat_id: &ChatId) -> Result<String, SfuError>;

    /// The node hosting the chat's call, if any.
    async fn host_of_chat(&self, chat_id: &ChatId) -> Result<Option<String>, SfuError>;

    /// The node hosting call `call_id`, if any.
    async fn host_of_call(&self, call_id: &CallId) -> Result<Option<String>, SfuError>;

    /// Records (or refreshes) calls running on this node; a chat another node has
    /// claimed meanwhile stays theirs.
    async fn hold(&self, calls: &[(ChatId, CallId)]) -> Result<(), SfuError>;

    /// Clears the records of a call that ended on this node: its id's, and its chat's
    /// when given (not when a newer call of the chat runs here).
    async fn release(&self, chat_id: Option<&ChatId>, call_id: &CallId);
}
