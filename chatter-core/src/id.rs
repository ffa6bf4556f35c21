//! Identifier newtypes. Ids are opaque strings on the wire; the newtypes keep a user id
//! from being passed where a chat id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id string as it came from the store or the wire.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies a chat (group or direct).
    ChatId
);
id_type!(
    /// Identifies a message; unique across chats.
    MessageId
);
id_type!(
    /// Identifies a login session (one device).
    SessionId
);
id_type!(
    /// Identifies a call (one run of a chat's call, from its first join to its last leave).
    CallId
);
id_type!(
    /// Identifies one device's place in a call.
    ParticipantId
);
