//! What the client knows of other people beyond the messages: who is online, how far
//! each member has read in each chat, and which of the user's chats have a call running.
//! Each is an observable value apps subscribe to; nothing here does I/O.

use chatter_core::{CallId, ChatId, UserId};
use eyeball::SharedObservable;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Presence, read receipts and running calls.
#[derive(Debug, Default)]
pub(crate) struct Awareness {
    online: SharedObservable<BTreeSet<UserId>>,
    receipts: HashMap<ChatId, SharedObservable<BTreeMap<UserId, u64>>>,
    calls: SharedObservable<BTreeMap<ChatId, CallId>>,
}

impl Awareness {
    /// The users seen online (among those whose presence the server sends this user).
    pub(crate) fn online(&self) -> SharedObservable<BTreeSet<UserId>> {
        self.online.clone()
    }

    /// A new connection: the server says again who is online (right after `ready`), so
    /// what was known is dropped (someone who went offline meanwhile would stay).
    pub(crate) fn reconnected(&self) {
        self.online.update_if(|users| {
            let had = !users.is_empty();
            users.clear();
            had
        });
    }

    /// `user` came online or went offline.
    pub(crate) fn presence(&self, user: &UserId, online: bool) {
        self.online.update_if(|users| if online { users.insert(user.clone()) } else { users.remove(user) });
    }

    /// The read markers of `chat`'s members, by user.
    pub(crate) fn receipts(&mut self, chat: &ChatId) -> SharedObservable<BTreeMap<UserId, u64>> {
        self.receipts.entry(chat.clone()).or_default().clone()
    }

    /// `user` has read `chat` up to `seq` (a marker never moves back).
    pub(crate) fn receipt(&mut self, chat: &ChatId, user: &UserId, seq: u64) {
        self.receipts(chat).update_if(|markers| {
            let marker = markers.entry(user.clone()).or_default();
            let moved = seq > *marker;
            *marker = (*marker).max(seq);
            moved
        });
    }

    /// The calls running in the user's chats, by chat.
    pub(crate) fn calls(&self) -> SharedObservable<BTreeMap<ChatId, CallId>> {
        self.calls.clone()
    }

    /// A call started in `chat`.
    pub(crate) fn call_started(&self, chat: &ChatId, call: &CallId) {
        self.calls.update_if(|calls| calls.insert(chat.clone(), call.clone()).as_ref() != Some(call));
    }

    /// The call `call` of `chat` ended (a newer call of the chat stays).
    pub(crate) fn call_ended(&self, chat: &ChatId, call: &CallId) {
        self.calls.update_if(|calls| {
            let ended = calls.get(chat) == Some(call);
            if ended {
                calls.remove(chat);
            }
            ended
        });
    }

    /// The user is no longer in `chat`: its receipts and call are nothing to them now.
    pub(crate) fn forget_chat(&mut self, chat: &ChatId) {
        if let Some(receipts) = self.receipts.remove(chat) {
            receipts.set(BTreeMap::new());
        }
        self.calls.update_if(|calls| calls.remove(chat).is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_adds_and_removes_and_says_only_changes() {
        let a = Awareness::default();
        let mut online = a.online().subscribe();
        a.presence(&UserId::new("bob"), true);
        assert_eq!(online.get(), BTreeSet::from([UserId::new("bob")]));
        a.presence(&UserId::new("bob"), true);
        a.presence(&UserId::new("bob"), false);
        assert!(online.get().is_empty());
        assert!(online.next_now().is_empty());
        a.presence(&UserId::new("carol"), true);
        a.reconnected();
        assert!(online.get().is_empty(), "the server says it again after a reconnect");
    }

    #[test]
    fn a_read_receipt_never_moves_back() {
        let mut a = Awareness::default();
        let (chat, bob) = (ChatId::new("c"), UserId::new("bob"));
        a.receipt(&chat, &bob, 5);
        a.receipt(&chat, &bob, 3);
        assert_eq!(a.receipts(&chat).get().get(&bob), Some(&5));
        a.forget_chat(&chat);
        assert!(a.receipts(&chat).get().is_empty());
    }

    #[test]
    fn only_the_running_call_of_a_chat_ends() {
        let a = Awareness::default();
        let chat = ChatId::new("c");
        a.call_started(&chat, &CallId::new("k1"));
        a.call_started(&chat, &CallId::new("k2"));
        a.call_ended(&chat, &CallId::new("k1"));
        assert_eq!(a.calls().get().get(&chat), Some(&CallId::new("k2")));
        a.call_ended(&chat, &CallId::new("k2"));
        assert!(a.calls().get().is_empty());
    }
}
