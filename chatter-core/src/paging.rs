//! Paging: the `limit` rule and opaque cursors.

use crate::error::Error;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Page size when the request gives none.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page size; larger requests are clamped.
pub const MAX_LIMIT: usize = 200;

/// Clamps a requested page size to `1..=MAX_LIMIT`, defaulting to `DEFAULT_LIMIT`.
pub fn clamp_limit(requested: Option<i64>) -> usize {
    match requested {
        None => DEFAULT_LIMIT,
        Some(n) => n.clamp(1, MAX_LIMIT as i64) as usize,
    }
}

/// A page of a list, with the cursor of the next page (`None` at the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page, in list order.
    pub items: Vec<T>,
    /// Where the next page starts, or `None` at the end.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched items: an extra item means there is
    /// more, and the cursor is made from the last kept item.
    pub fn from_fetched(mut items: Vec<T>, limit: usize, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more { items.last().map(|last| cursor_of(last).encode()) } else { None };
        Self { items, next_cursor }
    }
}

/// A position in a list: the sort key of the last item seen, as a few string parts.
/// Opaque on the wire (URL-safe base64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(Vec<String>);

impl Cursor {
    /// A cursor from the sort key's parts.
    pub fn new(parts: impl IntoIterator<Item = String>) -> Self {
        Self(parts.into_iter().collect())
    }

    /// The opaque wire form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.join("\n"))
    }

    /// The longest wire cursor accepted (the server's own are far shorter).
    pub const MAX_LEN: usize = 1024;

    /// Decodes a wire cursor that must have exactly `parts` parts.
    pub fn decode(raw: &str, parts: usize) -> Result<Self, Error> {
        let bad = || Error::validation("cursor", "is not a valid cursor");
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let split: Vec<String> = text.split('\n').map(str::to_owned).collect();
        if split.len() != parts {
            return Err(bad());
        }
        Ok(Self(split))
    }

    /// The cursor's parts.
    pub fn parts(&self) -> &[String] {
        &self.0
    }

    /// Part `i` parsed as an integer.
    pub fn int(&self, i: usize) -> Result<i64, Error> {
        self.0.get(i).and_then(|s| s.parse().ok()).ok_or_else(|| Error::validation("cursor", "is not a valid cursor"))
    }
}

/// The lowercase form used to match search queries.
pub fn search_key(s: &str) -> String {
    s.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_clamps() {
        assert_eq!(clamp_limit(None), 50);
        assert_eq!(clamp_limit(Some(0)), 1);
        assert_eq!(clamp_limit(Some(-5)), 1);
        assert_eq!(clamp_limit(Some(7)), 7);
        assert_eq!(clamp_limit(Some(10_000)), 200);
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor::new(["123".to_owned(), "abc".to_owned()]);
        let back = Cursor::decode(&c.encode(), 2).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.int(0).unwrap(), 123);
        assert!(Cursor::decode(&c.encode(), 1).is_err());
        assert!(Cursor::decode("!!!", 1).is_err());
    }

    #[test]
    fn page_cursor_only_when_more() {
        let p = Page::from_fetched(vec![1, 2, 3], 2, |n| Cursor::new([n.to_string()]));
        assert_eq!(p.items, vec![1, 2]);
        assert!(p.next_cursor.is_some());
        let p = Page::from_fetched(vec![1, 2], 2, |n| Cursor::new([n.to_string()]));
        assert_eq!(p.next_cursor, None);
    }
}
