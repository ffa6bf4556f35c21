//! Timestamps: microseconds since the Unix epoch, shown on the wire as RFC 3339 UTC.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time with microsecond precision, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

// On the wire a timestamp is an RFC 3339 UTC string.
#[cfg(feature = "tsify")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TIMESTAMP_TS: &str =
    "/** An RFC 3339 UTC time, e.g. `2026-12-04T18:07:50.123456Z`. */\nexport type Timestamp = string;";

impl Timestamp {
    /// A timestamp from microseconds since the Unix epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// This timestamp moved forward by `micros` microseconds (saturating).
    pub const fn plus_micros(self, micros: i64) -> Self {
        Self(self.0.saturating_add(micros))
    }

    /// Formats as RFC 3339 in UTC, e.g. `2026-11-25T20:26:43.123456Z`.
    pub fn to_rfc3339(self) -> String {
        DateTime::<Utc>::from_timestamp_micros(self.0).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Parses an RFC 3339 string.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s).ok().map(|t| Self(t.with_timezone(&Utc).timestamp_micros()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_with_micros() {
        let t = Timestamp::from_micros(1_764_102_403_123_456);
        let s = t.to_rfc3339();
        assert_eq!(s, "2025-11-25T20:26:43.123456Z");
        assert_eq!(Timestamp::parse_rfc3339(&s), Some(t));
    }
}
