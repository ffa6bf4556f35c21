//! Random ids: 48 bits of milliseconds then 80 random bits, in lowercase Crockford
//! base32 (26 characters), so ids sort roughly by creation time and never collide.

use chatter_core::IdGenerator;
use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Makes time-ordered random ids.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn new_id(&self) -> String {
        let millis =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let random: u128 = rand::rng().random::<u128>() & ((1u128 << 80) - 1);
        let value = (millis << 80) | random;
        (0..26).rev().map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_chars_unique_and_time_ordered() {
        let a = RandomIds.new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = RandomIds.new_id();
        assert_eq!(a.len(), 26);
        assert!(a < b);
        let many: std::collections::HashSet<_> = (0..10_000).map(|_| RandomIds.new_id()).collect();
        assert_eq!(many.len(), 10_000);
    }
}
