//! Chats and members: create, list, search, update, join, leave, invite, kick, roles,
//! read markers.

use super::{Caller, Notice, Service};
use crate::error::Error;
use crate::id::{ChatId, UserId};
use crate::model::{Chat, ChatKind, LeaveReason, Member, MemberEntry, Message, Role, User, Visibility};
use crate::paging::{Cursor, DEFAULT_LIMIT, Page, search_key};
use crate::permissions::{self, Action};
use crate::protocol::{ChatSummaryView, ChatView, UpdateChatRequest};
use crate::store::{ChatUpdate, Created, MessageWindow, NewChat, Removal};
use crate::time::Timestamp;
use crate::value::ChatTitle;

/// A chat to create.
#[derive(Clone, Debug)]
pub enum CreateChat {
    /// A group owned by the caller.
    Group {
        /// Title.
        title: String,
        /// Visibility.
        visibility: Visibility,
        /// Other users to add as members.
        members: Vec<UserId>,
    },
    /// A direct chat with one other user.
    Direct {
        /// The other user (exactly one).
        members: Vec<UserId>,
    },
}

impl Service {
    async fn live_user(&self, id: &UserId, field: &str) -> Result<User, Error> {
        match self.store.user(id).await? {
            Some(u) if !u.deleted => Ok(u),
            _ => Err(Error::not_found_in("user", field)),
        }
    }

    /// Creates a chat. A direct chat that exists already is returned as `Existing`.
    pub async fn create_chat(&self, caller: &Caller, req: CreateChat) -> Result<Created<Chat>, Error> {
        let me = caller.user_id().clone();
        let now = self.now();
        let new = match req {
            CreateChat::Group { title, visibility, members } => {
                let title = ChatTitle::parse(&title)?;
                let mut all = vec![(me.clone(), Role::Owner)];
                for id in members {
                    if all.iter().any(|(m, _)| m == &id) {
                        continue;
                    }
                    self.live_user(&id, "members").await?;
                    all.push((id, Role::Member));
                }
                NewChat {
                    id: ChatId::new(self.ids.new_id()),
                    kind: ChatKind::Group,
                    title: Some(title),
                    visibility,
                    owner_id: Some(me),
                    members: all,
                    created_at: now,
                }
            }
            CreateChat::Direct { members } => {
                let [other] = members.as_slice() else {
                    return Err(Error::validation("members", "a direct chat needs exactly one other user"));
                };
                if other == &me {
                    return Err(Error::validation("members", "a direct chat needs another user"));
                }
                self.live_user(other, "members").await?;
                NewChat {
                    id: ChatId::new(self.ids.new_id()),
                    kind: ChatKind::Direct,
                    title: None,
                    visibility: Visibility::Private,
                    owner_id: None,
                    members: vec![(me, Role::Member), (other.clone(), Role::Member)],
                    created_at: now,
                }
            }
        };
        let member_ids: Vec<UserId> = new.members.iter().map(|(id, _)| id.clone()).collect();
        let created = self.store.create_chat(new).await?;
        if let Created::New(chat) = &created {
            for user_id in member_ids {
                self.publish(Notice::ChatAdded { user_id, chat: chat.clone() });
            }
        }
        Ok(created)
    }

    /// The caller's chats, most recently active first.
    pub async fn chats(
        &self,
        caller: &Caller,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<ChatSummaryView>, Error> {
        let after = match cursor {
            Some(c) => {
                let c = Cursor::decode(c, 2)?;
                Some((Timestamp::from_micros(c.int(0)?), ChatId::new(c.parts()[1].clone())))
            }
            None => None,
        };
        let found = self.store.chats_of_user(caller.user_id(), after, limit + 1).await?;
        let page = Page::from_fetched(found, limit, |s| {
            Cursor::new([s.chat.last_activity_at.as_micros().to_string(), s.chat.id.to_string()])
        });
        Ok(Page { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor })
    }

    /// Public groups whose title contains `q` (all of them without `q`).
    pub async fn search_public_chats(
        &self,
        q: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Chat>, Error> {
        let q = search_key(q.unwrap_or("").trim());
        let after = match cursor {
            Some(c) => {
                let c = Cursor::decode(c, 2)?;
                Some((c.parts()[0].clone(), ChatId::new(c.parts()[1].clone())))
            }
            None => None,
        };
        let found = self.store.search_public_chats(&q, after, limit + 1).await?;
        Ok(Page::from_fetched(found, limit, |c| {
            Cursor::new([search_key(c.title.as_deref().unwrap_or("")), c.id.to_string()])
        }))
    }

    /// A chat: the summary for members, the plain chat for others who may see it.
    pub async fn chat(&self, caller: &Caller, chat_id: &ChatId) -> Result<ChatView, Error> {
        let (chat, member) = self.authorize(caller, chat_id, Action::See).await?;
        if member.is_none() {
            return Ok(ChatView::Visitor(chat));
        }
        match self.store.chat_summary(chat_id, caller.user_id()).await? {
            Some(s) => Ok(ChatView::Member(Box::new(s.into()))),
            None => Ok(ChatView::Visitor(chat)),
        }
    }

    /// Renames a group or changes its visibility.
    pub async fn update_chat(&self, caller: &Caller, chat_id: &ChatId, req: UpdateChatRequest) -> Result<Chat, Error> {
        let update =
            ChatUpdate { title: req.title.as_deref().map(ChatTitle::parse).transpose()?, visibility: req.visibility };
        let (chat, _) = self.authorize(caller, chat_id, Action::Update).await?;
        let unchanged = update.title.as_ref().is_none_or(|t| chat.title.as_deref() == Some(t.as_str()))
            && update.visibility.is_none_or(|v| v == chat.visibility);
        if unchanged {
            return Ok(chat);
        }
        let (chat, event) = self.store.update_chat(chat_id, update).await?;
        self.publish(Notice::Chat(event));
        Ok(chat)
    }

    /// Joins a public group; answers the chat and its newest page of messages. Joining
    /// again changes nothing.
    pub async fn join(&self, caller: &Caller, chat_id: &ChatId) -> Result<(Chat, Vec<Message>), Error> {
        let (_, member) = self.authorize(caller, chat_id, Action::Join).await?;
        if member.is_none()
            && let Some((_, event)) = self.store.add_member(chat_id, &caller.user, Role::Member, self.now()).await?
        {
            self.publish(Notice::Chat(event));
            if let Some(chat) = self.store.chat(chat_id).await? {
                self.publish(Notice::ChatAdded { user_id: caller.user_id().clone(), chat });
            }
        }
        let chat = self.store.chat(chat_id).await?.ok_or_else(|| Error::not_found("chat"))?;
        let messages = self.store.messages(chat_id, MessageWindow::Latest, DEFAULT_LIMIT).await?;
        Ok((chat, messages))
    }

    /// Leaves a group. An owner hands over ownership; the last one out deletes it.
    pub async fn leave(&self, caller: &Caller, chat_id: &ChatId) -> Result<(), Error> {
        self.authorize(caller, chat_id, Action::Leave).await?;
        let removal = self.store.remove_member(chat_id, caller.user_id(), LeaveReason::Left).await?;
        self.after_removal(chat_id, caller.user_id(), removal);
        Ok(())
    }

    fn after_removal(&self, chat_id: &ChatId, user_id: &UserId, removal: Removal) {
        self.publish_events(removal.events);
        self.publish(Notice::ChatRemoved { user_id: user_id.clone(), chat_id: chat_id.clone() });
    }

    /// A page of members, oldest first.
    pub async fn members(
        &self,
        caller: &Caller,
        chat_id: &ChatId,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<MemberEntry>, Error> {
        self.authorize(caller, chat_id, Action::See).await?;
        let after = match cursor {
            Some(c) => {
                let c = Cursor::decode(c, 2)?;
                Some((Timestamp::from_micros(c.int(0)?), UserId::new(c.parts()[1].clone())))
            }
            None => None,
        };
        let found = self.store.members(chat_id, after, limit + 1).await?;
        Ok(Page::from_fetched(found, limit, |e| {
            Cursor::new([e.member.joined_at.as_micros().to_string(), e.user.id.to_string()])
        }))
    }

    /// Adds a user to a group. Answers the membership and whether it is new.
    pub async fn add_member(
        &self,
        caller: &Caller,
        chat_id: &ChatId,
        user_id: &UserId,
    ) -> Result<Created<MemberEntry>, Error> {
        self.authorize(caller, chat_id, Action::AddMember).await?;
        let user = self.live_user(user_id, "user_id").await?;
        match self.store.add_member(chat_id, &user, Role::Member, self.now()).await? {
            Some((member, event)) => {
                self.publish(Notice::Chat(event));
                if let Some(chat) = self.store.chat(chat_id).await? {
                    self.publish(Notice::ChatAdded { user_id: user_id.clone(), chat });
                }
                Ok(Created::New(MemberEntry { user, member }))
            }
            None => {
                let member = self.target_member(chat_id, user_id).await?;
                Ok(Created::Existing(MemberEntry { user, member }))
            }
        }
    }

    async fn target_member(&self, chat_id: &ChatId, user_id: &UserId) -> Result<Member, Error> {
        self.store.member(chat_id, user_id).await?.ok_or_else(|| Error::not_found_in("member", "user_id"))
    }

    /// Makes a member an admin or a plain member (owner only).
    pub async fn set_role(
        &self,
        caller: &Caller,
        chat_id: &ChatId,
        user_id: &UserId,
        role: &str,
    ) -> Result<MemberEntry, Error> {
        let role = match Role::parse(role) {
            Some(r @ (Role::Admin | Role::Member)) => r,
            _ => return Err(Error::validation("role", "must be \"admin\" or \"member\"")),
        };
        self.authorize(caller, chat_id, Action::ChangeRole).await?;
        let target = self.target_member(chat_id, user_id).await?;
        if target.role == Role::Owner {
            return Err(Error::invalid("the owner's role cannot be changed"));
        }
        let user = self.user(user_id).await?;
        if target.role == role {
            return Ok(MemberEntry { user, member: target });
        }
        let (member, event) = self.store.set_role(chat_id, user_id, role).await?;
        self.publish(Notice::Chat(event));
        Ok(MemberEntry { user, member })
    }

    /// Removes a member (owner: anyone; admins: plain members).
    pub async fn remove_member(&self, caller: &Caller, chat_id: &ChatId, user_id: &UserId) -> Result<(), Error> {
        let (chat, me) = self.chat_and_membership(caller, chat_id).await?;
        if !permissions::can_see(&chat, me.as_ref()) {
            return Err(Error::not_found("chat"));
        }
        let target = self.store.member(chat_id, user_id).await?;
        let action = Action::RemoveMember { target: target.as_ref() };
        permissions::check(&chat, caller.user_id(), me.as_ref(), action)?;
        if target.is_none() {
            return Err(Error::not_found_in("member", "user_id"));
        }
        let removal = self.store.remove_member(chat_id, user_id, LeaveReason::Removed).await?;
        self.after_removal(chat_id, user_id, removal);
        Ok(())
    }

    /// Checks that the caller may post in the chat (and so send typing notices there).
    pub async fn check_can_post(&self, caller: &Caller, chat_id: &ChatId) -> Result<(), Error> {
        self.authorize(caller, chat_id, Action::Post).await.map(|_| ())
    }

    /// Checks that the caller is a member of the chat: only members join its call. A
    /// visitor of a public chat is refused; a private chat stays unseen.
    pub async fn check_member(&self, caller: &Caller, chat_id: &ChatId) -> Result<(), Error> {
        let (_, member) = self.authorize(caller, chat_id, Action::See).await?;
        member.map(|_| ()).ok_or_else(|| Error::forbidden("only members of the chat take part in its call"))
    }

    /// Moves the caller's read marker up to `seq` (never back).
    pub async fn mark_read(&self, caller: &Caller, chat_id: &ChatId, seq: u64) -> Result<(), Error> {
        let (chat, _) = self.authorize(caller, chat_id, Action::Post).await?;
        // A marker past the newest message (a client that counted ahead, a message
        // that is still on its way) means "read everything": it stops at the newest.
        let seq = seq.min(chat.last_seq);
        let before = self.store.member(chat_id, caller.user_id()).await?.map(|m| m.read_seq).unwrap_or(0);
        let now = self.store.mark_read(chat_id, caller.user_id(), seq).await?;
        if now > before {
            self.publish(Notice::Read { chat_id: chat_id.clone(), user_id: caller.user_id().clone(), seq: now });
        }
        Ok(())
    }
}
