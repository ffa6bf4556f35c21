//! Who may do what in a chat: pure functions over the chat and the caller's membership.
//! The table is API.md's; a chat the caller may not see is always "not found".

use crate::error::Error;
use crate::id::UserId;
use crate::model::{Chat, ChatKind, Member, Role, Visibility};

/// Something a user wants to do in a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// Read the chat, its members and history.
    See,
    /// Post a message, send typing, move the read marker.
    Post,
    /// Join (public groups).
    Join,
    /// Add another user.
    AddMember,
    /// Change a member's role.
    ChangeRole,
    /// Remove a member (`None` when the target is not a member: only the caller's
    /// own right to remove anyone is checked).
    RemoveMember {
        /// The member to remove.
        target: Option<&'a Member>,
    },
    /// Rename or change visibility.
    Update,
    /// Leave.
    Leave,
    /// Edit a message sent by `sender`.
    EditMessage {
        /// The message's sender.
        sender: &'a UserId,
    },
    /// Delete a message sent by `sender`.
    DeleteMessage {
        /// The message's sender.
        sender: &'a UserId,
    },
}

/// Whether a user with this membership (or none) may see the chat at all.
pub fn can_see(chat: &Chat, membership: Option<&Member>) -> bool {
    match (chat.kind, chat.visibility) {
        (ChatKind::Group, Visibility::Public) => true,
        _ => membership.is_some(),
    }
}

/// Decides whether `me`, with `membership` in `chat` (or none), may do `action`.
pub fn check(chat: &Chat, me: &UserId, membership: Option<&Member>, action: Action<'_>) -> Result<(), Error> {
    if !can_see(chat, membership) {
        return Err(Error::not_found("chat"));
    }
    let direct = chat.kind == ChatKind::Direct;
    let role = membership.map(|m| m.role);
    let is_admin = matches!(role, Some(Role::Admin | Role::Owner));
    let not_in_direct = |what: &str| Error::invalid(format!("direct chats cannot {what}"));
    match action {
        Action::See => Ok(()),
        Action::Post => member_only(role, "only members may post in this chat"),
        Action::Join if direct => Err(not_in_direct("be joined")),
        Action::Join => Ok(()),
        Action::AddMember if direct => Err(not_in_direct("have members added")),
        Action::AddMember if is_admin => Ok(()),
        Action::AddMember => Err(Error::forbidden("only the owner and admins may add members")),
        Action::ChangeRole if direct => Err(not_in_direct("have roles")),
        Action::ChangeRole if role == Some(Role::Owner) => Ok(()),
        Action::ChangeRole => Err(Error::forbidden("only the owner may change roles")),
        Action::RemoveMember { .. } if direct => Err(not_in_direct("have members removed")),
        Action::RemoveMember { target: Some(t) } if &t.user_id == me => {
            Err(Error::invalid("to remove yourself, leave the chat"))
        }
        Action::RemoveMember { .. } if role == Some(Role::Owner) => Ok(()),
        Action::RemoveMember { target }
            if role == Some(Role::Admin) && target.is_none_or(|t| t.role == Role::Member) =>
        {
            Ok(())
        }
        Action::RemoveMember { .. } => Err(Error::forbidden("the owner may remove anyone, admins only plain members")),
        Action::Update if direct => Err(not_in_direct("be renamed")),
        Action::Update if is_admin => Ok(()),
        Action::Update => Err(Error::forbidden("only the owner and admins may change the chat")),
        Action::Leave if direct => Err(not_in_direct("be left")),
        Action::Leave => member_only(role, "you are not a member of this chat"),
        Action::EditMessage { sender } => {
            member_only(role, "only members may edit messages")?;
            if sender == me { Ok(()) } else { Err(Error::forbidden("only the sender may edit a message")) }
        }
        Action::DeleteMessage { sender } => {
            member_only(role, "only members may delete messages")?;
            if sender == me || (!direct && is_admin) {
                Ok(())
            } else {
                Err(Error::forbidden("only the sender, the owner and admins may delete a message"))
            }
        }
    }
}

fn member_only(role: Option<Role>, message: &str) -> Result<(), Error> {
    match role {
        Some(_) => Ok(()),
        None => Err(Error::forbidden(message)),
    }
}
