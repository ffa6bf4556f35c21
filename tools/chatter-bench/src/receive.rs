//! What subscribers receive: per-step delivery counts and send-to-receive latency,
//! read from the send time each message carries in its `client_id` (`s<step>-<micros>`).

use crate::histogram::Histogram;
use crate::rawws::RawSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Counters of one step, shared by every receiving task.
#[derive(Debug, Default)]
pub struct StepStats {
    /// Messages received in the step.
    pub received: AtomicU64,
    /// Their send-to-receive latency.
    pub latency: Histogram,
}

/// Microseconds since the Unix epoch (the clock the stamps use).
pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// The `client_id` of a message sent now in step `step`.
pub fn client_id(step: usize) -> String {
    format!("s{step}-{}", now_micros())
}

/// Reads `"client_id":"s<step>-<micros>"` out of a frame without parsing all of it (nor
/// checking its UTF-8): it runs once per delivery, so it must cost the load client little.
pub(crate) fn stamp(frame: &[u8]) -> Option<(usize, u64)> {
    static KEY: std::sync::LazyLock<memchr::memmem::FinderRev<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::FinderRev::new(b"\"client_id\":\"s"));
    let start = KEY.rfind(frame)? + KEY.needle().len();
    let rest = frame.get(start..)?;
    let dash = memchr::memchr(b'-', rest)?;
    let quote = dash + 1 + memchr::memchr(b'"', &rest[dash + 1..])?;
    Some((digits(&rest[..dash])? as usize, digits(&rest[dash + 1..quote])?))
}

/// A non-empty run of ASCII digits as a number.
fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    b.iter().try_fold(0u64, |n, &d| d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0')))
}

/// Adds `n` frames received in step `step` to its counters.
fn publish(stats: &[StepStats], step: usize, n: u64) {
    if n > 0
        && let Some(s) = stats.get(step)
    {
        s.received.fetch_add(n, Ordering::Relaxed);
        s.latency.add_count(n);
    }
}

/// Reads `socket` until it closes, adding what arrives to `stats`.
pub fn spawn_reader(mut socket: RawSocket, stats: Arc<Vec<StepStats>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Counted per read, not per frame: 1,000 readers bumping one shared counter
        // per frame would make the load client, not the server, the bottleneck.
        let (at_step, unpublished) = (AtomicUsize::new(0), AtomicU64::new(0));
        // Every frame of one read arrived at the same time: one clock read per read.
        // (0: not read yet.)
        let read_at = AtomicU64::new(0);
        let _ = socket
            .read_texts(
                |text| {
                    if let Some((step, sent)) = stamp(text)
                        && let Some(s) = stats.get(step)
                    {
                        let now = match read_at.load(Ordering::Relaxed) {
                            0 => {
                                let now = now_micros();
                                read_at.store(now, Ordering::Relaxed);
                                now
                            }
                            now => now,
                        };
                        s.latency.record_uncounted(now.saturating_sub(sent));
                        let at = at_step.swap(step, Ordering::Relaxed);
                        if at != step {
                            publish(&stats, at, unpublished.swap(0, Ordering::Relaxed));
                        }
                        unpublished.fetch_add(1, Ordering::Relaxed);
                    }
                },
                || {
                    read_at.store(0, Ordering::Relaxed);
                    publish(&stats, at_step.load(Ordering::Relaxed), unpublished.swap(0, Ordering::Relaxed));
                },
            )
            .await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_read_from_either_servers_frames() {
        let chatter = r#"{"type":"message.created","chat_id":"c","event_seq":3,"message":{"id":"m","text":"xx","client_id":"s2-1700000000000000","reply_to":null}}"#;
        assert_eq!(stamp(chatter.as_bytes()), Some((2, 1_700_000_000_000_000)));
        let peer = r#"{"type":"message.created","message":{"text":"x","client_id":"s0-5"}}"#;
        assert_eq!(stamp(peer.as_bytes()), Some((0, 5)));
        assert_eq!(stamp(br#"{"type":"ready"}"#), None);
        assert_eq!(stamp(br#"{"client_id":"s1-"}"#), None, "no micros");
        assert_eq!(stamp(br#"{"client_id":"sx-5"}"#), None, "no step");
    }
}
