//! Reconnect delays: exponential with full jitter, so a server restart is not met by
//! every client at the same instant.

use std::time::Duration;

const FIRST: Duration = Duration::from_millis(250);
const MAX: Duration = Duration::from_secs(30);

/// The delay before reconnect `attempt` (1, 2, …): 250 ms doubling up to 30 s, then a
/// random point between half of that and all of it (`random` is any u64).
pub(crate) fn delay(attempt: u32, random: u64) -> Duration {
    let exp = attempt.saturating_sub(1).min(16);
    let full = FIRST.saturating_mul(1 << exp).min(MAX);
    let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
    full.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stay_within_the_jitter_band() {
        assert_eq!(delay(1, 999), Duration::from_micros(249_875));
        assert_eq!(delay(1, 0), Duration::from_millis(125));
        assert_eq!(delay(3, 0), Duration::from_millis(500));
        assert_eq!(delay(40, 0), Duration::from_secs(15));
        for attempt in 1..50 {
            for r in [0, 7, 500, 999, u64::MAX] {
                let d = delay(attempt, r);
                assert!(d <= MAX && d >= Duration::from_millis(125), "{attempt}: {d:?}");
            }
        }
    }
}
