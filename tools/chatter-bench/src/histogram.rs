//! A lock-free latency histogram: 50 µs buckets up to 2 s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const BUCKET_MICROS: u64 = 50;
const BUCKETS: usize = 40_000;

/// Counts of latencies, shared by every receiving task.
#[derive(Debug)]
pub struct Histogram {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self { buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(), count: AtomicU64::new(0) }
    }

    /// Records one latency (longer than 2 s counts as 2 s) in its bucket only; the
    /// caller adds it to the count later with [`Histogram::add_count`] (one shared
    /// counter update per batch of records, not per record).
    pub fn record_uncounted(&self, micros: u64) {
        let i = ((micros / BUCKET_MICROS) as usize).min(BUCKETS - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` records made with [`Histogram::record_uncounted`] to the count.
    pub fn add_count(&self, n: u64) {
        self.count.fetch_add(n, Ordering::Relaxed);
    }

    /// How many were recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The latency below which `q` (0..1) of the records fall.
    pub fn quantile(&self, q: f64) -> Duration {
        let total = self.count();
        if total == 0 {
            return Duration::ZERO;
        }
        let want = ((total as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= want {
                return Duration::from_micros((i as u64 + 1) * BUCKET_MICROS);
            }
        }
        Duration::from_micros(BUCKETS as u64 * BUCKET_MICROS)
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_buckets() {
        let h = Histogram::new();
        for us in 1..=100 {
            h.record_uncounted(us * 1000);
            h.add_count(1);
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), Duration::from_micros(50_050));
        assert_eq!(h.quantile(0.99), Duration::from_micros(99_050));
    }
}
