//! Messages: send (idempotent by client_id), read windows, edit, delete.

use super::{Caller, Notice, Service};
use crate::error::Error;
use crate::id::{ChatId, MessageId};
use crate::model::{ChatEvent, Message};
use crate::permissions::{self, Action};
use crate::store::{Created, MessageWindow, NewMessage};
use crate::value::{ClientId, MessageText};

/// A message to send.
#[derive(Clone, Debug)]
pub struct SendInput {
    /// The text.
    pub text: String,
    /// Idempotency key.
    pub client_id: Option<String>,
    /// The message replied to.
    pub reply_to: Option<MessageId>,
}

impl Service {
    /// Posts a message; answers it with its `message.created` event. The same
    /// `client_id` from the same sender again answers the first message (and its
    /// creation event) as `Existing`.
    pub async fn send_message(
        &self,
        caller: &Caller,
        chat_id: &ChatId,
        input: SendInput,
    ) -> Result<Created<(Message, ChatEvent)>, Error> {
        // Who may post comes first: a chat one may not post in says so whatever the body.
        self.authorize(caller, chat_id, Action::Post).await?;
        let text = MessageText::parse(&input.text)?;
        let client_id = input.client_id.as_deref().map(ClientId::parse).transpose()?;
        if let Some(reply) = &input.reply_to
            && self.store.message(chat_id, reply).await?.is_none()
        {
            return Err(Error::not_found_in("message", "reply_to"));
        }
        let appended = self
            .store
            .append_message(NewMessage {
                id: MessageId::new(self.ids.new_id()),
                chat_id: chat_id.clone(),
                sender_id: caller.user_id().clone(),
                text,
                client_id,
                reply_to: input.reply_to,
                created_at: self.now(),
            })
            .await?;
        if let Created::New((_, event)) = &appended {
            self.publish(Notice::Chat(event.clone()));
        }
        Ok(appended)
    }

    /// A window of history, ascending by seq.
    pub async fn messages(
        &self,
        caller: &Caller,
        chat_id: &ChatId,
        window: MessageWindow,
        limit: usize,
    ) -> Result<Vec<Message>, Error> {
        self.authorize(caller, chat_id, Action::See).await?;
        Ok(self.store.messages(chat_id, window, limit).await?)
    }

    async fn message_for(
        &self,
        caller: &Caller,
        chat_id: &ChatId,
        id: &MessageId,
        action: impl Fn(&Message) -> Action<'_>,
    ) -> Result<Message, Error> {
        let (chat, member) = self.chat_and_membership(caller, chat_id).await?;
        if !permissions::can_see(&chat, member.as_ref()) {
            return Err(Error::not_found("chat"));
        }
        let message = self.store.message(chat_id, id).await?.ok_or_else(|| Error::not_found("message"))?;
        permissions::check(&chat, caller.user_id(), member.as_ref(), action(&message))?;
        Ok(message)
    }

    /// Edits the caller's own message.
    pub async fn edit_message(
        &self,
        caller: &Caller,
        chat_id: &ChatId,
        id: &MessageId,
        text: &str,
    ) -> Result<Message, Error> {
        let message = self.message_for(caller, chat_id, id, |m| Action::EditMessage { sender: &m.sender_id }).await?;
        if message.deleted {
            return Err(Error::invalid("a deleted message cannot be edited"));
        }
        let text = MessageText::parse(text)?;
        if message.text == text.as_str() {
            return Ok(message);
        }
        let (message, event) = self.store.edit_message(chat_id, id, &text, self.now()).await?;
        self.publish(Notice::Chat(event));
        Ok(message)
    }

    /// Deletes a message (its sender, or a group's owner and admins). Deleting again is
    /// a no-op.
    pub async fn delete_message(&self, caller: &Caller, chat_id: &ChatId, id: &MessageId) -> Result<(), Error> {
        self.message_for(caller, chat_id, id, |m| Action::DeleteMessage { sender: &m.sender_id }).await?;
        if let Some((_, event)) = self.store.delete_message(chat_id, id).await? {
            self.publish(Notice::Chat(event));
        }
        Ok(())
    }
}
