//! The host side of the core's `Clock`, `IdGenerator` and `Credentials`: system time,
//! random ids, Argon2id on a bounded pool, random tokens stored as SHA-256.

mod ids;
mod passwords;
mod tokens;

pub use ids::RandomIds;
pub use passwords::Argon2Credentials;

use chatter_core::{Clock, Timestamp};

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Timestamp::from_micros(micros)
    }
}
