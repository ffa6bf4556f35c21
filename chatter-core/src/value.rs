//! Validated values: once built, a value obeys its rules (parse, don't validate).
//! Lengths count Unicode scalar values. Text rejects control characters other than
//! newline and tab; single-line values reject those too.

use crate::error::Error;
use serde::{Deserialize, Serialize};

fn check_controls(field: &str, s: &str, multiline: bool) -> Result<(), Error> {
    let bad = s.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')));
    if bad {
        let allowed = if multiline {
            "control characters other than newline and tab are not allowed"
        } else {
            "control characters are not allowed"
        };
        return Err(Error::validation(field, allowed));
    }
    Ok(())
}

fn check_len(field: &str, s: &str, min: usize, max: usize) -> Result<(), Error> {
    let n = s.chars().count();
    if n < min || n > max {
        let msg = if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be {min} to {max} characters")
        };
        return Err(Error::validation(field, msg));
    }
    Ok(())
}

/// A trimmed value's length rule: at most `max` characters as sent (so what a schema
/// states holds for the raw input), at least `min` once trimmed.
fn check_trimmed_len(field: &str, raw: &str, trimmed: &str, min: usize, max: usize) -> Result<(), Error> {
    if raw.chars().count() > max {
        return check_len(field, raw, min, max);
    }
    check_len(field, trimmed, min, max)
}

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }

            /// Wraps a value read back from the store, where it was validated on the way in.
            pub fn from_trusted(s: impl Into<String>) -> Self {
                Self(s.into())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_value!(
    /// A username: lowercased, 3–32 of `[a-z0-9_.-]`.
    Username
);
string_value!(
    /// A display name: trimmed, 1–64 characters on one line.
    DisplayName
);
string_value!(
    /// A profile bio: trimmed, at most 500 characters.
    Bio
);
string_value!(
    /// An avatar URL: `https://…` of at most 2048 characters, or empty.
    AvatarUrl
);
string_value!(
    /// A chat title: trimmed, 1–100 characters on one line.
    ChatTitle
);
string_value!(
    /// A message text: trimmed, 1–4000 characters.
    MessageText
);
string_value!(
    /// A client-chosen idempotency key for a send: 1–64 characters on one line.
    ClientId
);
string_value!(
    /// A device name for a session: trimmed, at most 64 characters on one line.
    DeviceName
);

impl Username {
    /// The fewest characters it may have (after trimming, where it is trimmed).
    pub const MIN_LEN: usize = 3;
    /// The most characters it may have (after trimming, where it is trimmed).
    pub const MAX_LEN: usize = 32;

    /// Checks and lowercases a username. Only ASCII is taken, before lowercasing too: a
    /// character that lowercases into ASCII (the Kelvin sign into `k`) would make
    /// look-alike names.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        const FIELD: &str = "username";
        check_len(FIELD, raw, Self::MIN_LEN, Self::MAX_LEN)?;
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            return Err(Error::validation(FIELD, "may contain only a-z, 0-9, '_', '.' and '-'"));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }
}

impl DisplayName {
    /// The fewest characters it may have (after trimming, where it is trimmed).
    pub const MIN_LEN: usize = 1;
    /// The most characters it may have (after trimming, where it is trimmed).
    pub const MAX_LEN: usize = 64;

    /// Trims and checks a display name.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        const FIELD: &str = "display_name";
        check_controls(FIELD, raw, false)?;
        let s = raw.trim();
        check_trimmed_len(FIELD, raw, s, Self::MIN_LEN, Self::MAX_LEN)?;
        Ok(Self(s.to_owned()))
    }
}

impl Bio {
    /// The fewest characters it may have (after trimming, where it is trimmed).
    pub const MIN_LEN: usize = 0;
    /// The most characters it may have (after trimming, where it is trimmed).
    pub const MAX_LEN: usize = 500;

    /// Trims and checks a bio.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        const FIELD: &str = "bio";
        check_controls(FIELD, raw, true)?;
        let s = raw.trim();
        check_trimmed_len(FIELD, raw, s, Self::MIN_LEN, Self::MAX_LEN)?;
        Ok(Self(s.to_owned()))
    }
}

impl AvatarUrl {
    /// The fewest characters it may have (after trimming, where it is trimmed).
    pub const MIN_LEN: usize = 0;
    /// The most characters it may have (after trimming, where it is trimmed).
    pub const MAX_LEN: usize = 2048;

    /// Checks an avatar URL: empty, or `https://host…` without spaces.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        const FIELD: &str = "avatar_url";
        check_controls(FIELD, raw, false)?;
        check_len(FIELD, raw, Self::MIN_LEN, Self::MAX_LEN)?;
        if raw.is_empty() {
            return Ok(Self(String::new()));
        }
        let rest =
            raw.strip_prefix("https://").ok_or_else(|| Error::validation(FIELD, "must be an https:// URL or empty"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || raw.chars().any(char::is_whitespace) {
            return Err(Error::validation(FIELD, "must be an https:// URL or empty"));
        }
        Ok(Self(raw.to_owned()))
    }
}

impl ChatTitle {
    /// The fewest characters it may have (after trimming, where it is trimmed).
    pub const MIN_LEN: usize = 1;
    /// The most characters it may have (after trimming, where it is trimmed).
    pub const MAX_LEN: usize = 100;

    /// Trims and checks a chat title.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        const FIELD: &str = "title";
        check_controls(FIELD, raw, false)?;
        let s = raw.trim();
        check_trimmed_len(FIELD, raw, s, Self::MIN_LEN, Self::MAX_LEN)?;
        Ok(Self(s.to_owned()))
    }
}

impl MessageText {
    /// The fewest characters it may have (after trimming, where it is trimmed).
    pub const MIN_LEN: usize = 1;
    /// The most characters it may have (after trimming, where it is trimmed).
    pub const MAX_LEN: usize = 4000;

    /// Trims and checks a message text.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        const FIELD: &str = "text";
        check_controls(FIELD, raw, true)?;
        let s = raw.trim();
        check_trimmed_len(FIELD, raw, s, Self::MIN_LEN, Self::MAX_LEN)?;
        Ok(Self(s.to_owned()))
    }
}

impl ClientId {
    /// The fewest characters it may have (after trimming, where it is trimmed).
    pub const MIN_LEN: usize = 1;
    /// The most characters it may have (after trimming, where it is trimmed).
    pub const MAX_LEN: usize = 64;

    /// Checks a client id.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        const FIELD: &str = "client_id";
        check_controls(FIELD, raw, false)?;
        check_len(FIELD, raw, Self::MIN_LEN, Self::MAX_LEN)?;
        Ok(Self(raw.to_owned()))
    }
}

impl DeviceName {
    /// The fewest characters it may have (after trimming, where it is trimmed).
    pub const MIN_LEN: usize = 0;
    /// The most characters it may have (after trimming, where it is trimmed).
    pub const MAX_LEN: usize = 64;

    /// Trims and checks a device name.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        const FIELD: &str = "device_name";
        check_controls(FIELD, raw, false)?;
        let s = raw.trim();
        check_trimmed_len(FIELD, raw, s, Self::MIN_LEN, Self::MAX_LEN)?;
        Ok(Self(s.to_owned()))
    }
}

/// A password as typed: 8–1024 characters without control characters other than
/// newline and tab. Never stored, logged or serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The fewest characters a new password may have.
    pub const MIN_LEN: usize = 8;
    /// The most characters a new password may have.
    pub const MAX_LEN: usize = 1024;

    /// Checks a new password (register, change).
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        check_controls(field, raw, true)?;
        check_len(field, raw, Self::MIN_LEN, Self::MAX_LEN)?;
        Ok(Self(raw.to_owned()))
    }

    /// Wraps a password given to log in or re-authenticate: it is only compared, so no
    /// rule applies beyond the transport's size limit.
    pub fn for_check(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    /// The password's text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_is_lowercased_and_restricted() {
        assert_eq!(Username::parse("Alice_1.x-Y").unwrap().as_str(), "alice_1.x-y");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("älice").is_err());
        assert!(Username::parse("\u{212A}elvin").is_err(), "the Kelvin sign is not a k");
    }

    #[test]
    fn lengths_count_scalar_values_not_bytes() {
        let emoji = "😀".repeat(4000);
        assert!(MessageText::parse(&emoji).is_ok());
        assert!(MessageText::parse(&format!("{emoji}😀")).is_err());
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(65)).is_err());
    }

    #[test]
    fn text_rejects_controls_but_keeps_newline_and_tab() {
        assert!(MessageText::parse("a\nb\tc").is_ok());
        assert!(MessageText::parse("a\0b").is_err());
        assert!(MessageText::parse("a\u{7}b").is_err());
        assert!(DisplayName::parse("a\nb").is_err());
        assert!(Password::parse("password", "pass\0word").is_err());
    }

    #[test]
    fn text_is_trimmed_and_must_not_be_empty() {
        assert_eq!(MessageText::parse("  hi \n").unwrap().as_str(), "hi");
        assert!(MessageText::parse("   ").is_err());
        assert!(MessageText::parse(&"x".repeat(4001)).is_err());
        // The most is counted as sent, the fewest once trimmed.
        assert!(MessageText::parse(&format!("{} ", "x".repeat(4000))).is_err());
        assert!(DisplayName::parse(&format!(" {} ", "x".repeat(62))).is_ok());
    }

    #[test]
    fn avatar_url_must_be_https_or_empty() {
        assert!(AvatarUrl::parse("").is_ok());
        assert!(AvatarUrl::parse("https://cdn.example/a.png").is_ok());
        assert!(AvatarUrl::parse("http://cdn.example/a.png").is_err());
        assert!(AvatarUrl::parse("https://").is_err());
        assert!(AvatarUrl::parse("javascript:alert(1)").is_err());
        assert!(AvatarUrl::parse(&format!("https://x/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn password_length_is_checked() {
        assert!(Password::parse("password", "1234567").is_err());
        assert!(Password::parse("password", "12345678").is_ok());
        assert!(Password::parse("password", &"x".repeat(1025)).is_err());
    }
}
